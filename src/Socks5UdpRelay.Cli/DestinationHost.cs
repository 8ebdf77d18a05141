using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// What goes in DST.ADDR. By default a name is sent as a name, for the proxy to resolve (like
/// curl's socks5h); with -4/-6 it is resolved here and an address of that family is sent, as
/// nc -4/-6 do.
/// </summary>
internal static class DestinationHost
{
    /// <summary>An IP literal (brackets allowed for IPv6) or a name the SOCKS header can carry; the text to send.</summary>
    public static async Task<string> ResolveAsync(string host, AddressFamily? family, CancellationToken cancellationToken)
    {
        var literal = ParseLiteral(host);
        if (literal is not null)
        {
            if (family is { } wanted && literal.AddressFamily != wanted)
            {
                throw CliException.Usage($"{FamilyOption(wanted)}: '{host}' is an {FamilyName(literal.AddressFamily)} address.");
            }

            return literal.ToString();
        }

        ValidateName(host);
        if (family is not { } required)
        {
            return host;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, required, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new CliException(ExitCodes.Unreachable, $"{host}: {e.Message} (resolved here because of {FamilyOption(required)}).");
        }

        return addresses.FirstOrDefault(a => a.AddressFamily == required)?.ToString()
            ?? throw new CliException(ExitCodes.Unreachable, $"{host}: no {FamilyName(required)} address (resolved here because of {FamilyOption(required)}).");
    }

    public static IPAddress? ParseLiteral(string host)
    {
        ReadOnlySpan<char> text = host;
        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        // IPAddress.TryParse also takes "1" or "0x7f.1"; only dotted quads and IPv6 count as literals here.
        return IPAddress.TryParse(text, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 || text.Count('.') == 3)
            ? address
            : null;
    }

    public static void ValidateName(string host)
    {
        if (host.Length is 0 or > 255 || !Ascii.IsValid(host) || host.Any(c => char.IsControl(c) || c == ' ' || c == '/'))
        {
            throw CliException.Usage($"'{host}' is not a host name or an IP address (a name has 1 to 255 ASCII characters).");
        }
    }

    private static string FamilyOption(AddressFamily family) => family == AddressFamily.InterNetwork ? "-4" : "-6";

    private static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
}
