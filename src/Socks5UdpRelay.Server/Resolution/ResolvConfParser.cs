using System.Globalization;
using System.Net;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// Reads <c>/etc/resolv.conf</c> the way glibc's resolver does (resolv.conf(5); glibc
/// <c>resolv/res_init.c</c>): a keyword starts its line and is followed by a blank; a line
/// starting with <c>#</c> or <c>;</c> is a comment; of <c>search</c> and <c>domain</c> the last
/// line wins; at most three nameservers; option values are capped at glibc's limits. Lines it
/// does not understand are ignored, as glibc ignores them. What is not supported is listed in the
/// README (Configuration, name resolution).
/// </summary>
internal static class ResolvConfParser
{
    private const int DnsPort = 53;

    /// <summary>
    /// The configuration in <paramref name="text"/> (null: no file, so the defaults).
    /// <paramref name="hostName"/> supplies the default search domain, everything after its first
    /// dot, when the file has neither <c>search</c> nor <c>domain</c>.
    /// </summary>
    public static ResolverConfiguration Parse(string? text, string? hostName)
    {
        var servers = new List<IPEndPoint>();
        List<string>? search = null;
        var config = new ResolverConfiguration();
        foreach (string line in (text ?? string.Empty).Split('\n'))
        {
            if (Value(line, "nameserver") is { } server)
            {
                if (servers.Count < ResolverConfiguration.MaxNameServers && ParseServer(FirstWord(server)) is { } endpoint)
                {
                    servers.Add(endpoint);
                }
            }
            else if (Value(line, "domain") is { } domain && Words(domain).Length > 0)
            {
                search = Domains(Words(domain)[..1]);
            }
            else if (Value(line, "search") is { } domains && Words(domains).Length > 0)
            {
                search = Domains(Words(domains));
            }
            else if (Value(line, "options") is { } options)
            {
                foreach (string option in Words(options))
                {
                    config = ApplyOption(config, option);
                }
            }
        }

        search ??= DomainOf(hostName) is { } own ? [own] : [];
        return config with { NameServers = servers, SearchDomains = search };
    }

    /// <summary>One word of an <c>options</c> line; unknown words and malformed numbers change nothing.</summary>
    internal static ResolverConfiguration ApplyOption(ResolverConfiguration config, string option)
    {
        if (Number(option, "ndots:") is { } ndots)
        {
            return config with { Ndots = Math.Min(ndots, ResolverConfiguration.MaxNdots) };
        }

        if (Number(option, "timeout:") is { } timeout)
        {
            // glibc waits at least a second whatever the file says.
            return config with { Timeout = TimeSpan.FromSeconds(Math.Clamp(timeout, 1, ResolverConfiguration.MaxTimeoutSeconds)) };
        }

        if (Number(option, "attempts:") is { } attempts)
        {
            // attempts:0 would send nothing at all; one round is the least that means anything.
            return config with { Attempts = Math.Clamp(attempts, 1, ResolverConfiguration.MaxAttempts) };
        }

        return option switch
        {
            "rotate" => config with { Rotate = true },
            "use-vc" => config with { UseTcp = true },
            "no-tld-query" or "no_tld_query" => config with { NoTldQuery = true },
            "no-aaaa" => config with { NoAaaa = true },
            _ => config,
        };
    }

    /// <summary>The rest of <paramref name="line"/> when it is <c>keyword</c> at column 0 followed by a blank (glibc's MATCH), else null.</summary>
    private static string? Value(string line, string keyword) =>
        line.Length > keyword.Length && line.StartsWith(keyword, StringComparison.Ordinal) && line[keyword.Length] is ' ' or '\t'
            ? line[(keyword.Length + 1)..]
            : null;

    private static string[] Words(string text) =>
        text.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);

    private static string FirstWord(string text) => Words(text) is [var first, ..] ? first : string.Empty;

    /// <summary>An IPv4 or IPv6 address (with <c>%scope</c> for link-local), port 53; anything else is no server.</summary>
    private static IPEndPoint? ParseServer(string text) =>
        text.Length > 0 && !text.Contains('[') && IPAddress.TryParse(text, out var address) ? new IPEndPoint(address, DnsPort) : null;

    /// <summary>
    /// Search domains without their trailing dot, <c>.</c> (the root) as the empty domain. glibc
    /// takes every word, so a word that is no domain name (an inline <c># comment</c>) would only
    /// ever be asked for and fail: it is left out.
    /// </summary>
    private static List<string> Domains(string[] words) =>
        [.. words.Select(w => w.TrimEnd('.')).Where(d => d.Length == 0 || CachingResolver.IsValidHostName(d))];

    private static string? DomainOf(string? hostName)
    {
        int dot = hostName?.IndexOf('.') ?? -1;
        string? domain = dot >= 0 ? hostName![(dot + 1)..].TrimEnd('.') : null;
        return string.IsNullOrEmpty(domain) ? null : domain;
    }

    /// <summary>The decimal number after <paramref name="prefix"/> (its leading digits, as atoi reads them), or null when there is none.</summary>
    private static int? Number(string option, string prefix)
    {
        if (!option.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = option.AsSpan(prefix.Length);
        int length = 0;
        while (length < digits.Length && length < 9 && char.IsAsciiDigit(digits[length]))
        {
            length++;
        }

        return length > 0 ? int.Parse(digits[..length], NumberStyles.None, CultureInfo.InvariantCulture) : null;
    }
}
