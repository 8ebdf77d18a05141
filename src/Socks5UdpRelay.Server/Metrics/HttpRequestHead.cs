using System.Buffers;
using System.Text;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// The head of one HTTP/1.1 request (RFC 9112 §2-§5) as the HTTP endpoint uses it: method, path,
/// query, and the three headers it acts on. The endpoint answers one request per connection and
/// reads no bodies, so a request announcing one is malformed here.
/// </summary>
internal sealed record HttpRequestHead(string Method, string Path, string Query, string? Authorization)
{
    /// <summary>The largest head read: ample for a browser's request, small enough that a client cannot make the endpoint hold much.</summary>
    public const int MaxLength = 8192;

    /// <summary>The error for a head that does not end within <see cref="MaxLength"/> bytes (answered 431).</summary>
    public const string TooLarge = "request head too large";

    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    /// <summary>
    /// Parses the head at the start of <paramref name="buffer"/>:
    /// <see cref="OperationStatus.NeedMoreData"/> until the blank line that ends it has arrived,
    /// <see cref="OperationStatus.InvalidData"/> (with <paramref name="error"/>) for a head this endpoint
    /// will not answer, <see cref="OperationStatus.Done"/> with <paramref name="head"/> otherwise.
    /// <code>
    /// request-line = method SP request-target SP HTTP-version CRLF   (RFC 9112 §3)
    /// field-line   = field-name ":" OWS field-value OWS CRLF         (RFC 9112 §5)
    /// </code>
    /// </summary>
    public static OperationStatus TryParse(ReadOnlySpan<byte> buffer, out HttpRequestHead? head, out string? error)
    {
        head = null;
        error = null;
        int end = buffer.IndexOf(EndOfHead);
        if (end < 0)
        {
            return buffer.Length >= MaxLength ? Invalid(TooLarge, out error) : OperationStatus.NeedMoreData;
        }

        var lines = buffer[..(end + 2)];
        int lineEnd = lines.IndexOf(Crlf);
        if (!TryParseRequestLine(lines[..lineEnd], out string method, out string target, out error))
        {
            return OperationStatus.InvalidData;
        }

        string? authorization = null;
        bool seenAuthorization = false;
        for (var rest = lines[(lineEnd + 2)..]; !rest.IsEmpty;)
        {
            lineEnd = rest.IndexOf(Crlf);
            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return Invalid("malformed header line", out error); // also an obsolete folded line (§5.2), which starts with a space
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (HasControl(value))
            {
                return Invalid("control character in a header", out error);
            }

            if (Ascii.EqualsIgnoreCase(name, "Authorization"u8))
            {
                if (seenAuthorization)
                {
                    return Invalid("more than one Authorization header", out error);
                }

                seenAuthorization = true;
                authorization = Encoding.Latin1.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) || (Ascii.EqualsIgnoreCase(name, "Content-Length"u8) && !value.SequenceEqual("0"u8)))
            {
                return Invalid("request bodies are not accepted", out error);
            }
        }

        int question = target.IndexOf('?', StringComparison.Ordinal);
        head = question < 0
            ? new HttpRequestHead(method, target, "", authorization)
            : new HttpRequestHead(method, target[..question], target[(question + 1)..], authorization);
        return OperationStatus.Done;
    }

    /// <summary>The value of <paramref name="name"/> in the query (percent- and <c>+</c>-decoded), or null; <paramref name="duplicate"/> when it appears twice.</summary>
    public string? QueryValue(string name, out bool duplicate)
    {
        duplicate = false;
        string? found = null;
        foreach (string pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Decode(eq < 0 ? pair : pair[..eq]);
            if (key != name)
            {
                continue;
            }

            duplicate |= found is not null;
            found = eq < 0 ? "" : Decode(pair[(eq + 1)..]);
        }

        return found;
    }

    /// <summary>The names in the query, for refusing the ones a route does not know.</summary>
    public IEnumerable<string> QueryNames => Query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => Decode(p.Split('=', 2)[0]));

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));

    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out string method, out string target, out string? error)
    {
        method = target = "";
        int first = line.IndexOf((byte)' ');
        int last = line.LastIndexOf((byte)' ');
        if (first <= 0 || last == first)
        {
            return Fail("malformed request line", out error);
        }

        var version = line[(last + 1)..];
        var path = line[(first + 1)..last];
        if (!IsToken(line[..first]))
        {
            return Fail("malformed method", out error);
        }

        if (!version.SequenceEqual("HTTP/1.1"u8) && !version.SequenceEqual("HTTP/1.0"u8))
        {
            return Fail("only HTTP/1.0 and HTTP/1.1 are spoken here", out error);
        }

        // origin-form only (RFC 9112 §3.2.1): the endpoint is no proxy, and "*" is for OPTIONS.
        if (path.IsEmpty || path[0] != (byte)'/' || path.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7e) >= 0)
        {
            return Fail("malformed request target", out error);
        }

        method = Encoding.ASCII.GetString(line[..first]);
        target = Encoding.ASCII.GetString(path);
        error = null;
        return true;
    }

    /// <summary>tchar (RFC 9110 §5.6.2): what a method or a field name is made of.</summary>
    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b is <= 0x20 or >= 0x7f or (byte)'(' or (byte)')' or (byte)',' or (byte)'/' or (byte)':' or (byte)';' or (byte)'<' or (byte)'='
                or (byte)'>' or (byte)'?' or (byte)'@' or (byte)'[' or (byte)'\\' or (byte)']' or (byte)'{' or (byte)'}' or (byte)'"')
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    private static bool HasControl(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7f)
            {
                return true;
            }
        }

        return false;
    }

    private static OperationStatus Invalid(string reason, out string? error)
    {
        error = reason;
        return OperationStatus.InvalidData;
    }

    private static bool Fail(string reason, out string? error)
    {
        error = reason;
        return false;
    }
}
