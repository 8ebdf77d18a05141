using System.Globalization;
using System.Reflection;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Tools;

/// <summary>
/// <c>--help</c> and <c>--version</c>. Both are answered before any configuration is read: the
/// configuration's command-line source would otherwise take <c>--help</c> for a key and start the
/// server on its defaults.
/// </summary>
internal static class ServerHelp
{
    /// <summary>The most used keys, in the order an operator meets them, with what they mean; defaults come from the options types.</summary>
    private static readonly (string Key, string Default, string Meaning)[] Keys =
    [
        ("Relay:Listen:0", "127.0.0.1:1080", "SOCKS TCP listen endpoint (more with :1, :2; [::1]:1080 for IPv6)"),
        ("Relay:AdvertisedAddress:0", "local address", "address put in UDP ASSOCIATE replies: NAT, containers, one per replica"),
        ("Relay:UdpPortRange", "any free port", "first-last client-facing UDP ports; its size caps concurrent associations"),
        ("Relay:RequireClientPort", Default<RelayOptions>(o => o.RequireClientPort), "true: UDP ASSOCIATE must name the client's address and UDP port"),
        ("Relay:Notices", Default<RelayOptions>(o => o.Notices), "on/off: error notices on the control connection"),
        ("Relay:HandshakeTimeout", Default<RelayOptions>(o => o.HandshakeTimeout), "from TCP connect to a complete request"),
        ("Relay:AssociationIdleTimeout", Default<RelayOptions>(o => o.AssociationIdleTimeout), "idle association closed (00:00:00: never)"),
        ("Relay:ShutdownGracePeriod", Default<RelayOptions>(o => o.ShutdownGracePeriod), "on SIGTERM: time to tell clients CLOSING and close"),
        ("Policy:AllowClients:0", "everyone", "client CIDR allowed to connect, e.g. 192.0.2.0/24"),
        ("Policy:LoopbackDestinations", Default<PolicyOptions>(o => o.LoopbackDestinations), "auto/allow/deny: destinations on this host's loopback"),
        ("Policy:DefaultDestinationAction", Default<PolicyOptions>(o => o.DefaultDestinationAction), "allow/deny: destinations no Policy:Destinations rule matches"),
        ("Policy:AllowOpenRelay", Default<PolicyOptions>(o => o.AllowOpenRelay), "true lets a non-loopback listener run without users or AllowClients"),
        ("Auth:Users:0:Name", "no users", "RFC 1929 user, with one of PasswordHash, PasswordFile, PasswordEnv"),
        ("Limits:MaxConnections", Default<LimitsOptions>(o => o.MaxConnections), "control connections at once"),
        ("Limits:MaxAssociationsPerClient", Default<LimitsOptions>(o => o.MaxAssociationsPerClient), "UDP associations at once per client (at most the UdpPortRange's size)"),
        ("Metrics:Enabled", Default<MetricsOptions>(o => o.Enabled), "HTTP /metrics (Prometheus) and /healthz"),
        ("Metrics:Listen", Default<MetricsOptions>(o => o.Listen), "where /metrics and /healthz listen"),
        ("Admin:Token", "none (off)", "bearer token of the flow view (/flows, the page at /) on the Metrics endpoint"),
        ("LogFormat", "text", "text or json"),
        ("Serilog:MinimumLevel:Default", "Information", "Verbose, Debug, Information, Warning, Error or Fatal"),
    ];

    public static string Version =>
        typeof(ServerHelp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ServerHelp).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>
    /// Writes the help or the version when <paramref name="args"/> asks for one and returns the exit
    /// code (0); null otherwise. The bare words <c>help</c> and <c>version</c> count only first, like
    /// the other commands; the options anywhere.
    /// </summary>
    public static int? TryHandle(string[] args, TextWriter output)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?") || (args.Length > 0 && args[0] == "help"))
        {
            output.Write(Text());
            return 0;
        }

        if (args.Contains("--version") || (args.Length > 0 && args[0] == "version"))
        {
            output.WriteLine($"Socks5UdpRelay.Server {Version}");
            return 0;
        }

        return null;
    }

    public static string Text()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            Socks5UdpRelay.Server {Version}
            A SOCKS5 server (RFC 1928) whose UDP relay tells clients why their datagrams went nowhere.

            Usage:
              Socks5UdpRelay.Server [--Section:Key=value ...]   run the server
              Socks5UdpRelay.Server healthcheck [...]           exit 0 when the server answers SOCKS5 (container health check)
              Socks5UdpRelay.Server hash-password               read a password, print a hash for Auth:Users:N:PasswordHash
              Socks5UdpRelay.Server --help | --version

            Configuration, each overriding the one before:
              config/appsettings.json   in ${RelayHost.ConfigDirectoryVariable}, ./config, or config/ beside the binary
              environment variables     Relay__Listen__0=0.0.0.0:1080
              the command line          --Relay:Listen:0=0.0.0.0:1080
            A key the server does not have, or a value it cannot use, stops the start with every error listed.

            Sections: {string.Join(", ", StrictConfiguration.TopLevelKeys)}. The most used keys:

            """);
        int width = Keys.Max(k => k.Key.Length);
        int valueWidth = Keys.Max(k => k.Default.Length);
        text.Append("  ").Append("key".PadRight(width)).Append("  ").Append("default".PadRight(valueWidth)).Append("  meaning\n");
        foreach (var (key, value, meaning) in Keys)
        {
            text.Append("  ").Append(key.PadRight(width)).Append("  ").Append(value.PadRight(valueWidth)).Append("  ").Append(meaning).Append('\n');
        }

        text.Append("""

            Every key, with its default and meaning: README.md, section "Configuration", and config/appsettings.json.

            """);
        return text.ToString();
    }

    private static string Default<T>(Func<T, object> read)
        where T : new() => read(new T()) switch
        {
            TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var v => v.ToString() ?? string.Empty,
        };
}
