using System.Net;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// The stub resolver's settings as glibc reads them from <c>/etc/resolv.conf</c> (resolv.conf(5)):
/// which servers to ask, in which order to try a name's search-list expansions, and how long to
/// wait. <see cref="ResolvConfParser"/> builds it; tests build it directly to point at a DNS
/// server on a loopback port.
/// </summary>
internal sealed record ResolverConfiguration
{
    /// <summary>glibc's MAXNS: nameserver lines past the third are ignored.</summary>
    public const int MaxNameServers = 3;

    /// <summary>glibc's RES_MAXNDOTS.</summary>
    public const int MaxNdots = 15;

    /// <summary>glibc's RES_MAXRETRANS, in seconds.</summary>
    public const int MaxTimeoutSeconds = 30;

    /// <summary>glibc's RES_MAXRETRY.</summary>
    public const int MaxAttempts = 5;

    /// <summary>RFC 1035 section 2.3.4: 255 octets on the wire are 253 characters of dotted text.</summary>
    private const int MaxNameLength = 253;

    /// <summary>Servers in the order they are asked (port 53 unless a test says otherwise). Empty: names not in the hosts file do not resolve.</summary>
    public IReadOnlyList<IPEndPoint> NameServers { get; init; } = [];

    /// <summary>Domains appended to a relative name, in order (<c>search</c>, <c>domain</c>, or the host name's domain).</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>A name with at least this many dots is tried as given before the search list (default 1).</summary>
    public int Ndots { get; init; } = 1;

    /// <summary>How long one server gets to answer one query before the next is asked (default 5 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Rounds over all servers before a query gives up (default 2).</summary>
    public int Attempts { get; init; } = 2;

    /// <summary><c>options rotate</c>: each lookup starts at the next server instead of the first.</summary>
    public bool Rotate { get; init; }

    /// <summary><c>options use-vc</c>: queries over TCP only.</summary>
    public bool UseTcp { get; init; }

    /// <summary><c>options no-tld-query</c>: a name without dots is never asked as is when a search list exists.</summary>
    public bool NoTldQuery { get; init; }

    /// <summary><c>options no-aaaa</c>: AAAA records are not asked for.</summary>
    public bool NoAaaa { get; init; }

    /// <summary>
    /// The names to ask for <paramref name="name"/>, in glibc's order (res_search): a name with a
    /// trailing dot is absolute and asked as is only; a name with at least <see cref="Ndots"/>
    /// dots is asked as is first, then with each search domain; a name with fewer dots is asked
    /// with each search domain first, then as is. Expansions longer than a DNS name can be are
    /// left out.
    /// </summary>
    public IReadOnlyList<string> QueryNames(string name)
    {
        if (name.EndsWith('.'))
        {
            string absolute = name.TrimEnd('.');
            return absolute.Length is > 0 and <= MaxNameLength ? [absolute] : [];
        }

        var names = new List<string>(SearchDomains.Count + 1);
        if (AsksAsIsFirst(name))
        {
            Add(names, name);
        }

        foreach (string domain in SearchDomains)
        {
            // A root search domain ("search .") stands for the name as is.
            Add(names, domain.Length == 0 ? name : $"{name}.{domain}");
        }

        bool hasDots = name.Contains('.');
        if (hasDots || SearchDomains.Count == 0 || !NoTldQuery)
        {
            Add(names, name);
        }

        return names;
    }

    /// <summary>True when <paramref name="name"/> is absolute or has at least <see cref="Ndots"/> dots: its own answer decides a failed lookup's error.</summary>
    public bool AsksAsIsFirst(string name) =>
        name.EndsWith('.') || name.AsSpan().Count('.') >= Ndots;

    private static void Add(List<string> names, string name)
    {
        if (name.Length <= MaxNameLength && !names.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            names.Add(name);
        }
    }
}
