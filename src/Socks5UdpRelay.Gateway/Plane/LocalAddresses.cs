using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>
/// The host's own addresses, which the kernel drops as the source of a packet arriving on the
/// device (a martian). A snapshot, refreshed by the reader thread's housekeeping, so a notice never
/// waits for the interface list; it is read in the network namespace of the thread that refreshes it.
/// </summary>
internal sealed class LocalAddresses
{
    private volatile HashSet<IPAddress> _addresses = [];

    public bool Contains(IPAddress address) => _addresses.Contains(address);

    public void Refresh()
    {
        var addresses = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    // Scope ids differ between what the NIC reports and what a notice parses to; compare without.
                    addresses.Add(address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address);
                }
            }
        }
        catch (NetworkInformationException)
        {
            return; // keep the last snapshot
        }

        _addresses = addresses;
    }
}
