using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Policy;

/// <summary>
/// One <c>Policy:Destinations</c> rule, parsed for matching without allocation: a network (IPv4
/// held IPv4-mapped, like <see cref="DestinationKey"/>) and port ranges.
/// </summary>
internal sealed class DestinationRule
{
    private readonly UInt128 _network;
    private readonly UInt128 _mask;
    private readonly (ushort First, ushort Last)[] _ports;

    private DestinationRule(bool allow, UInt128 network, int prefixLength, (ushort, ushort)[] ports)
    {
        Allow = allow;
        _mask = prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);
        _network = network & _mask;
        _ports = ports;
    }

    public bool Allow { get; }

    public bool Matches(in DestinationKey destination)
    {
        if ((destination.Address & _mask) != _network)
        {
            return false;
        }

        if (_ports.Length == 0)
        {
            return true;
        }

        foreach (var (first, last) in _ports)
        {
            if (destination.Port >= first && destination.Port <= last)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses action, CIDR and ports (<c>53</c>, <c>1000-2000</c>, <c>53,123</c>; empty: all); null with an error naming the part that is wrong.</summary>
    public static DestinationRule? TryParse(string? action, string? network, string? ports, out string? error)
    {
        error = null;
        bool allow;
        switch (action?.Trim().ToLowerInvariant())
        {
            case "allow":
                allow = true;
                break;
            case "deny":
                allow = false;
                break;
            default:
                error = $"Action = '{action}': use allow or deny.";
                return null;
        }

        if (!Cidr.TryParse(network, out var parsed))
        {
            error = $"Network = '{network}': write a CIDR such as 10.0.0.0/8 or 2001:db8::/32 (host bits zero).";
            return null;
        }

        var ranges = new List<(ushort, ushort)>();
        foreach (string part in (ports ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-', 2, StringSplitOptions.TrimEntries);
            if (!ushort.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort first)
                || !ushort.TryParse(bounds.Length == 2 ? bounds[1] : bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out ushort last)
                || first == 0 || first > last)
            {
                error = $"Ports = '{ports}': write ports 1-65535 as 53, 1000-2000 or 53,123 (or leave empty for all).";
                return null;
            }

            ranges.Add((first, last));
        }

        Span<byte> bytes = stackalloc byte[16];
        int prefix = parsed.PrefixLength;
        UInt128 address;
        if (parsed.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            parsed.BaseAddress.TryWriteBytes(bytes, out _);
            address = ((UInt128)0xFFFF << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes);
            prefix += 96;
        }
        else
        {
            parsed.BaseAddress.TryWriteBytes(bytes, out _);
            address = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }

        return new DestinationRule(allow, address, prefix, [.. ranges]);
    }
}
