using System.Net;
using System.Text;

namespace Socks5UdpRelay.Protocol.Tests;

/// <summary>Fills a notice line writer with the fields of one line.</summary>
public delegate void NoticeFields(ref NoticeLineWriter writer);

/// <summary>
/// The example lines of the design notes ("Notices"), each with the writer calls a server would make
/// for it. The expected text is copied from the document, not produced by the library.
/// </summary>
public static class NoticeExamples
{
    public const string Version = "NOTICES version=1\n";

    public const string PortUnreachable = "UDP-ERROR dst=203.0.113.7:555 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=203.0.113.7\n";

    public const string AdminProhibited6 = "UDP-ERROR dst=[2001:db8::7]:53 error=admin-prohibited errno=EACCES icmp6=1/1 from=2001:db8::1\n";

    public const string HostUnreachableByName = "UDP-ERROR dst=ntp.example:123 addr=192.0.2.9:123 error=host-unreachable errno=EHOSTUNREACH icmp=3/1 from=192.0.2.1\n";

    public const string DeniedByPolicy = "UDP-DENIED dst=169.254.169.254:80 reason=policy\n";

    public static TheoryData<string> Lines => new(Version, PortUnreachable, AdminProhibited6, HostUnreachableByName, DeniedByPolicy);

    public static (string Verb, NoticeFields Fill) Recipe(string line) => line switch
    {
        Version => (NoticeVerbs.Notices, static (ref NoticeLineWriter w) => w.Add(NoticeKeys.Version, 1)),
        PortUnreachable => (NoticeVerbs.UdpError, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse("203.0.113.7"), 555);
            w.Add(NoticeKeys.Error, UdpErrorKind.PortUnreachable.ToWireName());
            w.Add(NoticeKeys.Errno, "ECONNREFUSED");
            w.AddTypeCode(NoticeKeys.Icmp, 3, 3);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("203.0.113.7"));
        }),
        AdminProhibited6 => (NoticeVerbs.UdpError, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse("2001:db8::7"), 53);
            w.Add(NoticeKeys.Error, UdpErrorKind.AdminProhibited.ToWireName());
            w.Add(NoticeKeys.Errno, "EACCES");
            w.AddTypeCode(NoticeKeys.Icmp6, 1, 1);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("2001:db8::1"));
        }),
        HostUnreachableByName => (NoticeVerbs.UdpError, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, "ntp.example"u8, 123));
            w.AddEndpoint(NoticeKeys.Address, IPAddress.Parse("192.0.2.9"), 123);
            w.Add(NoticeKeys.Error, UdpErrorKind.HostUnreachable.ToWireName());
            w.Add(NoticeKeys.Errno, "EHOSTUNREACH");
            w.AddTypeCode(NoticeKeys.Icmp, 3, 1);
            w.AddAddress(NoticeKeys.From, IPAddress.Parse("192.0.2.1"));
        }),
        DeniedByPolicy => (NoticeVerbs.UdpDenied, static (ref NoticeLineWriter w) =>
        {
            w.AddEndpoint(NoticeKeys.Destination, IPAddress.Parse("169.254.169.254"), 80);
            w.Add(NoticeKeys.Reason, DeniedReasons.Policy);
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(line)),
    };

    /// <summary>Builds a line in a buffer of the given size; null when the writer refuses it.</summary>
    public static string? Build(string verb, NoticeFields fill, int bufferLength = NoticeFormat.MaxLineLength)
    {
        var buffer = new byte[bufferLength];
        var writer = new NoticeLineWriter(buffer, verb);
        fill(ref writer);
        if (!writer.TryComplete(out int length))
        {
            Assert.Equal(0, length);
            return null;
        }

        Assert.InRange(length, 1, Math.Min(bufferLength, NoticeFormat.MaxLineLength));
        return Encoding.Latin1.GetString(buffer, 0, length);
    }
}
