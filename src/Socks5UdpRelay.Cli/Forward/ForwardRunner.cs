using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Forward;

/// <summary>
/// One run of <c>forward</c>: the local socket's receive loop hands each datagram to its peer's
/// <see cref="ForwardPeer"/>, creating one for a new peer; Ctrl-C closes them all and exits 0.
/// </summary>
internal sealed class ForwardRunner(CliConsole console)
{
    private readonly Dictionary<IPEndPoint, (ForwardPeer Peer, Task Task)> _peers = [];
    private readonly Lock _lock = new();

    public async Task<int> RunAsync(ForwardRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        string host = await DestinationHost.ResolveAsync(request.Host, request.Family, cancellationToken).ConfigureAwait(false);

        // A wrong proxy address or password should stop forward now, not show at the first datagram.
        await (await session.OpenAsync(cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);

        using var local = new Socket(request.Listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            local.Bind(request.Listen);
        }
        catch (SocketException e)
        {
            throw CliException.Usage($"--listen {request.Listen}: {e.Message}");
        }

        string destination = DestinationHost.ParseLiteral(host) is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{host}]:{request.Port}" : $"{host}:{request.Port}";
        console.Say($"forwarding udp {local.LocalEndPoint} to {destination} through proxy {session.ProxyText}; Ctrl-C to stop.");

        try
        {
            await ReceiveLoopAsync(local, host, request, session, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        Task[] running;
        lock (_lock)
        {
            running = [.. _peers.Values.Select(p => p.Task)];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        console.Say("forward stopped.");
        return ExitCodes.Success;
    }

    private async Task ReceiveLoopAsync(Socket local, string host, ForwardRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(request.Listen.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await local.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
            {
                // An ICMP error for a reply sent to a peer that has gone: nothing to do with the others.
                continue;
            }

            var peer = (IPEndPoint)received.RemoteEndPoint;
            var datagram = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            lock (_lock)
            {
                if (_peers.TryGetValue(peer, out var known) && known.Peer.TryEnqueue(datagram))
                {
                    continue;
                }

                if (_peers.Count >= request.MaxPeers && !_peers.ContainsKey(peer))
                {
                    if (session.Verbose)
                    {
                        console.Say($"peer {peer}: dropped, {request.MaxPeers} peers are served already (--max-peers).");
                    }

                    continue;
                }

                var created = new ForwardPeer(peer, local, host, request, session, console);
                created.TryEnqueue(datagram);
                if (session.Verbose)
                {
                    console.Say($"peer {peer}: new, opening an association.");
                }

                _peers[peer] = (created, ServeAsync(created, cancellationToken));
            }
        }
    }

    private async Task ServeAsync(ForwardPeer peer, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await peer.RunAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (_peers.TryGetValue(peer.Peer, out var entry) && ReferenceEquals(entry.Peer, peer))
            {
                _peers.Remove(peer.Peer);
            }
        }
    }
}
