using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// One request on the HTTP endpoint and the connection to answer it on: a whole response, or a
/// head followed by a body of unknown length that ends when the connection closes (RFC 9112 §6.3,
/// item 8), which is how a server-sent event stream is carried. Every response closes the connection.
/// </summary>
internal sealed class HttpExchange(Socket connection, HttpRequestHead request)
{
    public HttpRequestHead Request { get; } = request;

    public IPEndPoint Remote { get; } = (IPEndPoint)connection.RemoteEndPoint!;

    /// <summary>A whole response: status line, headers, body; then the connection's sending side is shut.</summary>
    public async Task RespondAsync(int status, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
    {
        byte[] head = Head(status, contentType, body.Length, headers);
        await connection.SendAsync(head, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (!body.IsEmpty)
        {
            await connection.SendAsync(body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        connection.Shutdown(SocketShutdown.Send);
    }

    /// <summary>A plain-text answer (errors, refusals): the text and a newline.</summary>
    public Task RespondTextAsync(int status, string text, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
        => RespondAsync(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text + "\n"), cancellationToken, headers);

    /// <summary>The head of a response whose body follows in pieces (<see cref="SendAsync"/>) until the connection closes.</summary>
    public async Task StartStreamAsync(string contentType, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
        => await connection.SendAsync(Head(200, contentType, length: null, headers), SocketFlags.None, cancellationToken).ConfigureAwait(false);

    /// <summary>A piece of a streamed body.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> piece, CancellationToken cancellationToken)
        => await connection.SendAsync(piece, SocketFlags.None, cancellationToken).ConfigureAwait(false);

    /// <summary>Completes when the client closes its side or resets the connection (it sends nothing else after its request).</summary>
    public async Task WaitForCloseAsync(CancellationToken cancellationToken)
    {
        byte[] sink = new byte[256];
        try
        {
            while (await connection.ReceiveAsync(sink, SocketFlags.None, cancellationToken).ConfigureAwait(false) > 0)
            {
                // A client pipelining more requests gets no answer to them: one request per connection.
            }
        }
        catch (SocketException)
        {
            // reset: gone all the same
        }
    }

    private static byte[] Head(int status, string contentType, int? length, (string Name, string Value)[] headers)
    {
        var text = new StringBuilder();
        text.Append("HTTP/1.1 ").Append(status).Append(' ').Append(ReasonPhrase(status)).Append("\r\n");
        text.Append("Content-Type: ").Append(contentType).Append("\r\n");
        if (length is { } n)
        {
            text.Append("Content-Length: ").Append(n).Append("\r\n");
        }

        foreach (var (name, value) in headers)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        text.Append("Connection: close\r\n\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
