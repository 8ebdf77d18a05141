using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>One HTTP/1.1 GET over a plain socket, as a scraper or a probe sends it, for the server's metrics and health endpoint.</summary>
internal static class RawHttp
{
    /// <summary>The whole response (status line, headers, body) to <c>GET <paramref name="path"/></c>, read until the server closes (bounded).</summary>
    public static async Task<string> GetAsync(IPEndPoint endpoint, string path)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        return await GetAsync(socket, endpoint, path);
    }

    /// <summary><see cref="GetAsync(IPEndPoint, string)"/> over a socket of the caller's (one made in a network namespace).</summary>
    public static async Task<string> GetAsync(Socket socket, IPEndPoint endpoint, string path)
    {
        await socket.ConnectAsync(endpoint, TestTimeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"), SocketFlags.None, TestTimeout.Token);
        var response = new MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, TestTimeout.Token)) > 0)
        {
            response.Write(buffer, 0, n);
        }

        return Encoding.UTF8.GetString(response.ToArray());
    }
}
