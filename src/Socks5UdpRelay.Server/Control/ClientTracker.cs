using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Counts control connections, unfinished handshakes and associations against
/// <see cref="LimitsOptions"/>: connections in total; connections and associations per client (an
/// IPv4 address, an IPv6 /64 by default); unfinished handshakes per network (IPv4 /24, IPv6 /64 by
/// default), so stalled handshakes from many addresses of one network cannot fill the total
/// (README, "Security"). One lock: taken a few times per connection, never per datagram, and it
/// keeps a count and the removal of its entry from racing.
/// </summary>
internal sealed class ClientTracker
{
    private readonly LimitsOptions _limits;
    private readonly NetworkKey _clientKey;
    private readonly NetworkKey _networkKey;
    private readonly Dictionary<IPAddress, Counts> _clients = [];
    private readonly Dictionary<IPAddress, int> _handshakes = [];
    private readonly Lock _lock = new();
    private int _connections;

    public ClientTracker(IOptions<LimitsOptions> options)
    {
        _limits = options.Value;
        _clientKey = new NetworkKey(32, _limits.ClientIPv6PrefixLength);
        _networkKey = new NetworkKey(_limits.HandshakeNetworkIPv4PrefixLength, _limits.HandshakeNetworkIPv6PrefixLength);
    }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Takes a connection slot, with an open handshake; false (nothing taken) when a limit is reached, with which one.</summary>
    public bool TryOpenConnection(IPAddress address, [NotNullWhen(true)] out ClientSlot? slot, [NotNullWhen(false)] out string? limit)
    {
        var client = _clientKey.Of(address);
        var network = _networkKey.Of(address);
        slot = null;
        lock (_lock)
        {
            if (_connections >= _limits.MaxConnections)
            {
                limit = Limit(nameof(LimitsOptions.MaxConnections), _limits.MaxConnections, null);
                return false;
            }

            var counts = _clients.GetValueOrDefault(client);
            if (counts.Connections >= _limits.MaxConnectionsPerClient)
            {
                limit = Limit(nameof(LimitsOptions.MaxConnectionsPerClient), _limits.MaxConnectionsPerClient, Describe(client, 32, _limits.ClientIPv6PrefixLength));
                return false;
            }

            int handshakes = _handshakes.GetValueOrDefault(network);
            if (handshakes >= _limits.MaxHandshakesPerNetwork)
            {
                limit = Limit(nameof(LimitsOptions.MaxHandshakesPerNetwork), _limits.MaxHandshakesPerNetwork,
                    Describe(network, _limits.HandshakeNetworkIPv4PrefixLength, _limits.HandshakeNetworkIPv6PrefixLength));
                return false;
            }

            _connections++;
            _clients[client] = counts with { Connections = counts.Connections + 1 };
            _handshakes[network] = handshakes + 1;
        }

        slot = new ClientSlot(client, network);
        limit = null;
        return true;
    }

    /// <summary>The handshake is over (the request is in, or the session ended): its network's count goes down.</summary>
    public void EndHandshake(ClientSlot slot)
    {
        if (!slot.TryEndHandshake())
        {
            return;
        }

        lock (_lock)
        {
            int left = _handshakes.GetValueOrDefault(slot.Network) - 1;
            if (left > 0)
            {
                _handshakes[slot.Network] = left;
            }
            else
            {
                _handshakes.Remove(slot.Network);
            }
        }
    }

    public void CloseConnection(ClientSlot slot)
    {
        EndHandshake(slot);
        if (!slot.TryClose())
        {
            return;
        }

        lock (_lock)
        {
            _connections--;
            var counts = _clients.GetValueOrDefault(slot.Client);
            Store(slot.Client, counts with { Connections = counts.Connections - 1 });
        }
    }

    public bool TryOpenAssociation(IPAddress address, [NotNullWhen(false)] out string? limit)
    {
        var client = _clientKey.Of(address);
        lock (_lock)
        {
            var counts = _clients.GetValueOrDefault(client);
            if (counts.Associations >= _limits.MaxAssociationsPerClient)
            {
                limit = Limit(nameof(LimitsOptions.MaxAssociationsPerClient), _limits.MaxAssociationsPerClient, Describe(client, 32, _limits.ClientIPv6PrefixLength));
                return false;
            }

            _clients[client] = counts with { Associations = counts.Associations + 1 };
        }

        limit = null;
        return true;
    }

    public void CloseAssociation(IPAddress address)
    {
        var client = _clientKey.Of(address);
        lock (_lock)
        {
            var counts = _clients.GetValueOrDefault(client);
            Store(client, counts with { Associations = counts.Associations - 1 });
        }
    }

    /// <summary>Keeps an entry only while it counts something, so the table holds the clients connected now and no more.</summary>
    private void Store(IPAddress client, Counts counts)
    {
        if (counts.Connections > 0 || counts.Associations > 0)
        {
            _clients[client] = counts;
        }
        else
        {
            _clients.Remove(client);
        }
    }

    private static string Limit(string key, int value, string? scope)
        => $"{LimitsOptions.SectionName}:{key}={value}{(scope is null ? string.Empty : $" for {scope}")}";

    private static string Describe(IPAddress key, int ipv4Prefix, int ipv6Prefix)
    {
        int prefix = key.AddressFamily == AddressFamily.InterNetworkV6 ? ipv6Prefix : ipv4Prefix;
        int bits = key.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        return prefix >= bits ? key.ToString() : $"{key}/{prefix}";
    }

    private readonly record struct Counts(int Connections, int Associations);
}
