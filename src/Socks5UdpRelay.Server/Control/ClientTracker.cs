using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Control;

/// <summary>Counts control connections and associations, in total and per client IP, against <see cref="LimitsOptions"/>.</summary>
internal sealed class ClientTracker(IOptions<LimitsOptions> options)
{
    private readonly LimitsOptions _limits = options.Value;
    private readonly ConcurrentDictionary<IPAddress, Counts> _clients = new();
    private int _connections;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Takes a connection slot; false (nothing taken) when a limit is reached, with which one.</summary>
    public bool TryOpenConnection(IPAddress client, out string? limit)
    {
        limit = null;
        if (Interlocked.Increment(ref _connections) > _limits.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            limit = $"{LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxConnections)}={_limits.MaxConnections}";
            return false;
        }

        var counts = _clients.GetOrAdd(client, static _ => new Counts());
        if (Interlocked.Increment(ref counts.Connections) > _limits.MaxConnectionsPerClient)
        {
            CloseConnection(client);
            limit = $"{LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxConnectionsPerClient)}={_limits.MaxConnectionsPerClient}";
            return false;
        }

        return true;
    }

    public void CloseConnection(IPAddress client)
    {
        Interlocked.Decrement(ref _connections);
        if (_clients.TryGetValue(client, out var counts) && Interlocked.Decrement(ref counts.Connections) == 0 && Volatile.Read(ref counts.Associations) == 0)
        {
            _clients.TryRemove(new KeyValuePair<IPAddress, Counts>(client, counts));
        }
    }

    public bool TryOpenAssociation(IPAddress client, out string? limit)
    {
        limit = null;
        var counts = _clients.GetOrAdd(client, static _ => new Counts());
        if (Interlocked.Increment(ref counts.Associations) > _limits.MaxAssociationsPerClient)
        {
            Interlocked.Decrement(ref counts.Associations);
            limit = $"{LimitsOptions.SectionName}:{nameof(LimitsOptions.MaxAssociationsPerClient)}={_limits.MaxAssociationsPerClient}";
            return false;
        }

        return true;
    }

    public void CloseAssociation(IPAddress client)
    {
        if (_clients.TryGetValue(client, out var counts))
        {
            Interlocked.Decrement(ref counts.Associations);
        }
    }

    private sealed class Counts
    {
        public int Connections;
        public int Associations;
    }
}
