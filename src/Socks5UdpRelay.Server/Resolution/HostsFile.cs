using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// <c>/etc/hosts</c> as glibc's files backend reads it (hosts(5)): an address, then a canonical
/// name and aliases, separated by blanks; <c>#</c> starts a comment anywhere on a line; names
/// match without regard to case; a name on several lines gets every address, in file order.
/// A line whose address is not a plain IPv4 dotted quad or IPv6 address is ignored.
/// </summary>
internal sealed class HostsFile
{
    private readonly Dictionary<string, IPAddress[]> _names;

    private HostsFile(Dictionary<string, IPAddress[]> names) => _names = names;

    public static HostsFile Empty { get; } = new(new Dictionary<string, IPAddress[]>(StringComparer.OrdinalIgnoreCase));

    /// <summary>Names mapped: for tests and the log.</summary>
    public int Count => _names.Count;

    /// <summary>The table in <paramref name="text"/>; null (no file) is an empty table.</summary>
    public static HostsFile Parse(string? text)
    {
        var names = new Dictionary<string, List<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (string raw in (text ?? string.Empty).Split('\n'))
        {
            int comment = raw.IndexOf('#');
            string line = comment >= 0 ? raw[..comment] : raw;
            string[] words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || ParseAddress(words[0]) is not { } address)
            {
                continue;
            }

            foreach (string name in words.AsSpan(1))
            {
                string key = name.TrimEnd('.');
                if (!names.TryGetValue(key, out var addresses))
                {
                    names[key] = addresses = [];
                }

                if (!addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }
        }

        return new HostsFile(names.ToDictionary(n => n.Key, n => n.Value.ToArray(), StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The addresses of <paramref name="name"/> (a trailing dot ignored), or null when no line names it.</summary>
    public IPAddress[]? Find(string name) =>
        _names.TryGetValue(name.TrimEnd('.'), out var addresses) ? addresses : null;

    /// <summary>
    /// What inet_pton accepts: IPv6 text (no zone: hosts(5) has none), or exactly four decimal
    /// octets. IPAddress.TryParse alone would also take inet_aton's short forms such as "10.1".
    /// </summary>
    private static IPAddress? ParseAddress(string text)
    {
        if (text.AsSpan().IndexOfAny('%', '[') >= 0 || !IPAddress.TryParse(text, out var address))
        {
            return null;
        }

        bool dottedQuad = address.AddressFamily == AddressFamily.InterNetwork
            && text.Split('.') is { Length: 4 } octets && octets.All(o => o.Length is >= 1 and <= 3 && o.All(char.IsAsciiDigit));
        return dottedQuad || (address.AddressFamily == AddressFamily.InterNetworkV6 && text.Contains(':')) ? address : null;
    }
}
