using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// HOST of <c>probe</c>: a name, an address, or a CIDR block, expanded to every address in it
/// (network and broadcast included, as nmap does), bounded so a typo cannot start a scan of a /8.
/// </summary>
internal static class HostRange
{
    public const int DefaultMaxHosts = 256;

    /// <summary>True when <paramref name="text"/> is a CIDR block; then <paramref name="hosts"/> holds its addresses in order.</summary>
    /// <exception cref="CliException">A malformed block, or more addresses than <paramref name="maxHosts"/>.</exception>
    public static bool TryExpand(string text, int maxHosts, out IReadOnlyList<IPAddress> hosts)
    {
        hosts = [];
        int slash = text.IndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        if (DestinationHost.ParseLiteral(text[..slash]) is not { } network
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
        {
            throw CliException.Usage($"HOST: '{text}' is not a CIDR block (address/prefix, as 127.0.0.0/30).");
        }

        int bits = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix > bits)
        {
            throw CliException.Usage($"HOST: '{text}': the prefix length of an {(bits == 32 ? "IPv4" : "IPv6")} block is 0 to {bits}.");
        }

        var count = BigInteger.One << (bits - prefix);
        if (count > maxHosts)
        {
            throw CliException.Usage($"HOST: '{text}' holds {count} addresses, more than --max-hosts {maxHosts}.");
        }

        byte[] bytes = network.GetAddressBytes();
        var first = new BigInteger(bytes, isUnsigned: true, isBigEndian: true) >> (bits - prefix) << (bits - prefix);
        var list = new List<IPAddress>((int)count);
        for (var i = BigInteger.Zero; i < count; i++)
        {
            list.Add(ToAddress(first + i, bytes.Length));
        }

        hosts = list;
        return true;
    }

    private static IPAddress ToAddress(BigInteger value, int length)
    {
        byte[] raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var bytes = new byte[length];
        raw.CopyTo(bytes, length - raw.Length);
        return new IPAddress(bytes);
    }
}
