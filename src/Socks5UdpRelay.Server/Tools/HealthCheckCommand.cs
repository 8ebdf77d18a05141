using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Tools;

/// <summary>
/// <c>Socks5UdpRelay.Server healthcheck</c>: the container's HEALTHCHECK, run by the application
/// itself (the runtime image has no curl). Reads the same configuration as the server, connects
/// to its first listen endpoint (a wildcard address is reached through loopback) and completes a
/// method negotiation: exit 0 when the server answers as a SOCKS5 server (also with "no acceptable
/// methods", its answer to its own host when <c>Policy:AllowClients</c> leaves it out), 1 otherwise.
/// </summary>
internal static class HealthCheckCommand
{
    public const string Name = "healthcheck";

    /// <summary>From connect to the answer: a live server answers in milliseconds.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var builder = RelayHost.CreateBuilder(args);
        string? first = builder.Configuration.GetSection($"{RelayOptions.SectionName}:Listen").Get<string[]>()?.FirstOrDefault();
        if (!EndpointText.TryParseEndpoint(first, out var endpoint) || endpoint.Port == 0)
        {
            await output.WriteLineAsync($"unhealthy: Relay:Listen:0 = '{first}' is not an endpoint to check").ConfigureAwait(false);
            return 1;
        }

        if (endpoint.Address.Equals(IPAddress.Any))
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, endpoint.Port);
        }
        else if (endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            endpoint = new IPEndPoint(IPAddress.IPv6Loopback, endpoint.Port);
        }

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            byte[] greeting = new byte[4];
            MethodSelection.WriteGreeting(greeting, [AuthMethod.NoAuthentication, AuthMethod.UsernamePassword]);
            await socket.SendAsync(greeting, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            byte[] reply = new byte[MethodSelection.ReplyLength];
            int read = 0;
            while (read < reply.Length)
            {
                int n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            if (MethodSelection.TryReadReply(reply.AsSpan(0, read), out var method, out _) != System.Buffers.OperationStatus.Done)
            {
                await output.WriteLineAsync($"unhealthy: {endpoint} did not answer as a SOCKS5 server").ConfigureAwait(false);
                return 1;
            }

            // X'FF': this host is outside Policy:AllowClients, and the server answered anyway (it does
            // for its own host only), which is all a liveness check needs to know.
            await output.WriteLineAsync(method == AuthMethod.NoAcceptableMethods
                ? $"healthy: {endpoint} answers SOCKS5 (no acceptable methods for this host: it is not in Policy:AllowClients)"
                : $"healthy: {endpoint} answers SOCKS5").ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException)
        {
            // The kernel completes TCP handshakes into the listen backlog by itself: a server whose
            // accept loop is gone still "connects", and only the missing answer tells.
            await output.WriteLineAsync($"unhealthy: {endpoint} did not answer within {Timeout.TotalSeconds:0} s: the server is not accepting connections").ConfigureAwait(false);
            return 1;
        }
        catch (SocketException e)
        {
            await output.WriteLineAsync($"unhealthy: {endpoint}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
