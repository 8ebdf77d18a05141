using System.Collections.Frozen;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;

namespace Socks5UdpRelay.Server.Policy;

/// <summary>
/// The host's own interface addresses (loopback aside) and the IPv4 broadcast addresses of its subnets, as
/// destination keys: what a proxy reachable from other hosts must never relay to (README,
/// "Security"). Read again whenever the kernel reports an address change, so an address added
/// later is covered too; readers take a snapshot without a lock.
/// </summary>
internal sealed class LocalAddresses : IDisposable
{
    private readonly Func<IEnumerable<(IPAddress Address, IPAddress? Mask)>> _read;
    private volatile Snapshot _snapshot;

    public LocalAddresses()
        : this(ReadInterfaces)
    {
        NetworkChange.NetworkAddressChanged += OnChanged;
    }

    /// <summary>For tests: <paramref name="read"/> stands in for the host's interfaces.</summary>
    internal LocalAddresses(Func<IEnumerable<(IPAddress Address, IPAddress? Mask)>> read)
    {
        _read = read;
        _snapshot = Build(read());
    }

    public bool IsLocal(in DestinationKey key) => _snapshot.Local.Contains(key.Address);

    public bool IsBroadcast(in DestinationKey key) => key.IsIPv4 && (key.IPv4Bits == uint.MaxValue || _snapshot.Broadcast.Contains(key.Address));

    /// <summary>Reads the interfaces again now (what an address change does).</summary>
    public void Refresh() => _snapshot = Build(_read());

    public void Dispose() => NetworkChange.NetworkAddressChanged -= OnChanged;

    private void OnChanged(object? sender, EventArgs e) => Refresh();

    private static Snapshot Build(IEnumerable<(IPAddress Address, IPAddress? Mask)> addresses)
    {
        var local = new HashSet<UInt128>();
        var broadcast = new HashSet<UInt128>();
        foreach (var (address, mask) in addresses)
        {
            var ip = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            if (IPAddress.IsLoopback(ip))
            {
                continue; // loopback destinations have their own setting (Policy:LoopbackDestinations)
            }

            var key = DestinationKey.From(ip, 0);
            local.Add(key.Address);
            if (ip.AddressFamily == AddressFamily.InterNetwork && mask is not null && mask.AddressFamily == AddressFamily.InterNetwork)
            {
                uint m = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
                if (m != uint.MaxValue)
                {
                    broadcast.Add(DestinationKey.From(new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(key.IPv4Bits | ~m)), 0).Address);
                }
            }
        }

        return new Snapshot(local.ToFrozenSet(), broadcast.ToFrozenSet());
    }

    private static IEnumerable<(IPAddress, IPAddress?)> ReadInterfaces()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                yield return (unicast.Address, unicast.Address.AddressFamily == AddressFamily.InterNetwork ? unicast.IPv4Mask : null);
            }
        }
    }

    private sealed record Snapshot(FrozenSet<UInt128> Local, FrozenSet<UInt128> Broadcast);
}
