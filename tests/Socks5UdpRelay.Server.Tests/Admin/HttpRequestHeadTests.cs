using System.Buffers;
using System.Text;
using Socks5UdpRelay.Server.Metrics;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>The HTTP endpoint's request-head parser, byte by byte: every split point, every malformed case.</summary>
public sealed class HttpRequestHeadTests
{
    private const string Delete = "DELETE /flows/12?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer abc\r\nContent-Length: 0\r\n\r\n";

    [Fact]
    public void WholeHead_GivesMethodPathQueryAndAuthorization()
    {
        Assert.Equal(OperationStatus.Done, Parse(Delete, out var head, out _));
        Assert.Equal(new HttpRequestHead("DELETE", "/flows/12", "x=1", "Bearer abc"), head);
    }

    [Fact]
    public void EveryShorterPrefix_NeedsMoreData()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Delete);
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, HttpRequestHead.TryParse(bytes.AsSpan(0, length), out var head, out _));
            Assert.Null(head);
        }
    }

    [Fact]
    public void BytesAfterTheHead_AreNotPartOfIt()
    {
        Assert.Equal(OperationStatus.Done, Parse("GET /flows HTTP/1.0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", out var head, out _));
        Assert.Equal(("GET", "/flows", "", (string?)null), (head!.Method, head.Path, head.Query, head.Authorization));
    }

    [Theory]
    [InlineData("GET /flows\r\n\r\n", "malformed request line")]
    [InlineData("GET  /flows HTTP/1.1\r\n\r\n", "malformed request target")]
    [InlineData("G(T /flows HTTP/1.1\r\n\r\n", "malformed method")]
    [InlineData("GET /flows HTTP/2\r\n\r\n", "only HTTP/1.0 and HTTP/1.1")]
    [InlineData("GET http://example.test/flows HTTP/1.1\r\n\r\n", "malformed request target")]
    [InlineData("OPTIONS * HTTP/1.1\r\n\r\n", "malformed request target")]
    [InlineData("GET /fl\u00e9ws HTTP/1.1\r\n\r\n", "malformed request target")]
    [InlineData("GET /flows HTTP/1.1\r\nno colon\r\n\r\n", "malformed header line")]
    [InlineData("GET /flows HTTP/1.1\r\n: empty name\r\n\r\n", "malformed header line")]
    [InlineData("GET /flows HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "malformed header line")]
    [InlineData("GET /flows HTTP/1.1\r\nBad Name: a\r\n\r\n", "malformed header line")]
    [InlineData("GET /flows HTTP/1.1\r\nX: a\u0001b\r\n\r\n", "control character")]
    [InlineData("GET /flows HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\n\r\n", "more than one Authorization")]
    [InlineData("GET /flows HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "bodies are not accepted")]
    [InlineData("GET /flows HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "bodies are not accepted")]
    public void Malformed_IsInvalidData_WithTheReason(string text, string reason)
    {
        Assert.Equal(OperationStatus.InvalidData, Parse(text, out var head, out string? error));
        Assert.Null(head);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void AHeadWithoutItsEndWithinTheLimit_IsTooLarge()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("GET /flows HTTP/1.1\r\nX: " + new string('a', HttpRequestHead.MaxLength));
        Assert.Equal(OperationStatus.InvalidData, HttpRequestHead.TryParse(bytes, out _, out string? error));
        Assert.Equal(HttpRequestHead.TooLarge, error);
    }

    [Fact]
    public void HeaderNames_AreCaseInsensitive_ValuesTrimmed()
    {
        Assert.Equal(OperationStatus.Done, Parse("GET / HTTP/1.1\r\naUtHoRiZaTiOn: \t Bearer x \t\r\n\r\n", out var head, out _));
        Assert.Equal("Bearer x", head!.Authorization);
    }

    [Fact]
    public void QueryValues_AreDecoded_AndADuplicateIsSaid()
    {
        Assert.Equal(OperationStatus.Done, Parse("GET /flows?destination=a%20b+c&user=x&user=y&flag HTTP/1.1\r\n\r\n", out var head, out _));
        Assert.Equal("a b c", head!.QueryValue("destination", out bool duplicate));
        Assert.False(duplicate);
        Assert.Equal("y", head.QueryValue("user", out duplicate));
        Assert.True(duplicate);
        Assert.Equal("", head.QueryValue("flag", out _));
        Assert.Null(head.QueryValue("limit", out _));
        Assert.Equal(["destination", "user", "user", "flag"], head.QueryNames);
    }

    private static OperationStatus Parse(string text, out HttpRequestHead? head, out string? error)
        => HttpRequestHead.TryParse(Encoding.Latin1.GetBytes(text), out head, out error);
}
