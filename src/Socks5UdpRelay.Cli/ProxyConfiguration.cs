using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// Where the proxy is and who we are to it, from --proxy, SOCKS5_PROXY, --password-env,
/// SOCKS5_PASSWORD or a prompt (the README, "The CLI: s5nc").
/// </summary>
internal static class ProxyConfiguration
{
    public const string ProxyVariable = "SOCKS5_PROXY";
    public const string PasswordVariable = "SOCKS5_PASSWORD";
    public const string DefaultProxy = "127.0.0.1:1080";

    public static Socks5ProxyOptions Resolve(string? proxyArgument, string? passwordEnv, TimeSpan timeout, CliConsole console)
    {
        string? fromEnvironment = console.GetEnvironmentVariable(ProxyVariable);
        (string text, string source) = proxyArgument is not null ? (proxyArgument, "--proxy")
            : !string.IsNullOrEmpty(fromEnvironment) ? (fromEnvironment, ProxyVariable)
            : (DefaultProxy, "the default proxy");

        if (proxyArgument is not null && HasPasswordInUserInfo(proxyArgument))
        {
            // Every user of the machine can read another's command line in ps.
            throw CliException.Usage("--proxy: do not put a password on the command line, where ps shows it to everyone; "
                + $"use --password-env NAME or {PasswordVariable}.");
        }

        Socks5ProxyOptions parsed;
        try
        {
            parsed = Socks5ProxyOptions.Parse(text);
        }
        catch (FormatException e)
        {
            throw CliException.Usage($"{source}: {e.Message}");
        }

        var credentials = parsed.Credentials;
        if (credentials is null)
        {
            if (passwordEnv is not null)
            {
                throw CliException.Usage("--password-env needs a user name in the proxy address (socks5://user@host:port).");
            }
        }
        else
        {
            credentials = new NetworkCredential(credentials.UserName, FindPassword(credentials, passwordEnv, Display(parsed), console));
        }

        return new Socks5ProxyOptions
        {
            Host = parsed.Host,
            Port = parsed.Port,
            Credentials = credentials,
            ConnectTimeout = timeout,
            HandshakeTimeout = timeout,
        };
    }

    /// <summary>host:port as people write it, [v6]:port for IPv6.</summary>
    public static string Display(Socks5ProxyOptions options)
        => IPAddress.TryParse(options.Host, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{options.Host}]:{options.Port}"
            : $"{options.Host}:{options.Port}";

    private static string FindPassword(NetworkCredential credentials, string? passwordEnv, string proxy, CliConsole console)
    {
        if (passwordEnv is not null)
        {
            return console.GetEnvironmentVariable(passwordEnv)
                ?? throw CliException.Usage($"--password-env {passwordEnv}: the environment variable {passwordEnv} is not set.");
        }

        if (console.GetEnvironmentVariable(PasswordVariable) is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        // A password written into SOCKS5_PROXY itself (the environment is private to the user).
        if (credentials.Password.Length > 0)
        {
            return credentials.Password;
        }

        if (console.ReadPassword is { } prompt)
        {
            return prompt($"Password for {credentials.UserName}@{proxy}: ") ?? string.Empty;
        }

        throw CliException.Usage($"the proxy user '{credentials.UserName}' needs a password: set {PasswordVariable}, "
            + "use --password-env NAME, or run s5nc on a terminal to be asked for it.");
    }

    private static bool HasPasswordInUserInfo(string text)
    {
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        int at = text.LastIndexOf('@');
        return scheme >= 0 && at > scheme && text.AsSpan(scheme + 3, at - scheme - 3).Contains(':');
    }
}
