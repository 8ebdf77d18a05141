using System.Net;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>Log lines of name resolution, event ids 5xxx (the other ranges are in Logging/Log.cs).</summary>
internal static partial class ResolverLog
{
    public const string Category = "Socks5UdpRelay.Resolution";

    /// <summary>The DNS settings in force, once at the first lookup and again whenever the file changes.</summary>
    public static void Configuration(ILogger logger, string path, ResolverConfiguration c)
    {
        if (c.NameServers.Count == 0)
        {
            NoNameServer(logger, path);
            return;
        }

        DnsSettings(logger, path, string.Join(' ', c.NameServers.Select(Text)), c.SearchDomains.Count == 0 ? "(none)" : string.Join(' ', c.SearchDomains),
            c.Ndots, c.Timeout.TotalSeconds, c.Attempts);
    }

    [LoggerMessage(5001, LogLevel.Information, "Name resolution: /etc/hosts, then DNS from {Path}: nameservers {NameServers}, search {Search}, ndots {Ndots}, timeout {Timeout} s, attempts {Attempts}")]
    private static partial void DnsSettings(ILogger logger, string path, string nameServers, string search, int ndots, double timeout, int attempts);

    [LoggerMessage(5002, LogLevel.Warning, "Name resolution: {Path} names no nameserver: names not in /etc/hosts do not resolve (no-such-name)")]
    private static partial void NoNameServer(ILogger logger, string path);

    [LoggerMessage(5003, LogLevel.Information, "Name resolution: the system resolver (getaddrinfo, Relay:Resolver=system); a lookup holds a thread until the system resolver gives up")]
    public static partial void SystemResolver(ILogger logger);

    private static string Text(IPEndPoint server) => server.Port == 53 ? server.Address.ToString() : server.ToString();
}
