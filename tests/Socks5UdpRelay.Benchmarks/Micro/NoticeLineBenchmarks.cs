using System.Net;
using BenchmarkDotNet.Attributes;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Micro;

/// <summary>Writing and reading a notice line (the README's UDP-ERROR examples) with the protocol library's writer and reader.</summary>
[MemoryDiagnoser]
public class NoticeLineBenchmarks
{
    private readonly byte[] _line = new byte[NoticeFormat.MaxLineLength];
    private readonly IPAddress _v4 = IPAddress.Parse("203.0.113.7");
    private readonly IPAddress _v6 = IPAddress.Parse("2001:db8::7");
    private readonly IPAddress _router = IPAddress.Parse("2001:db8::1");
    private readonly byte[] _nameBytes = "ntp.example:x"u8.ToArray();
    private readonly byte[] _v4Line = "UDP-ERROR dst=203.0.113.7:555 error=port-unreachable errno=ECONNREFUSED icmp=3/3 from=203.0.113.7\n"u8.ToArray();
    private readonly byte[] _nameLine = "UDP-ERROR dst=ntp.example:123 addr=192.0.2.9:123 error=host-unreachable errno=EHOSTUNREACH icmp=3/1 from=192.0.2.1 suppressed=12\n"u8.ToArray();

    [Benchmark]
    public int WritePortUnreachableV4()
    {
        var w = new NoticeLineWriter(_line, NoticeVerbs.UdpError);
        w.AddEndpoint(NoticeKeys.Destination, _v4, 555);
        w.Add(NoticeKeys.Error, "port-unreachable");
        w.Add(NoticeKeys.Errno, "ECONNREFUSED");
        w.AddTypeCode(NoticeKeys.Icmp, 3, 3);
        w.AddAddress(NoticeKeys.From, _v4);
        return w.TryComplete(out int n) ? n : -1;
    }

    [Benchmark]
    public int WriteAdminProhibitedV6()
    {
        var w = new NoticeLineWriter(_line, NoticeVerbs.UdpError);
        w.AddEndpoint(NoticeKeys.Destination, _v6, 53);
        w.Add(NoticeKeys.Error, "admin-prohibited");
        w.Add(NoticeKeys.Errno, "EACCES");
        w.AddTypeCode(NoticeKeys.Icmp6, 1, 1);
        w.AddAddress(NoticeKeys.From, _router);
        w.Add(NoticeKeys.Suppressed, 12);
        return w.TryComplete(out int n) ? n : -1;
    }

    /// <summary>A name that needs %XX escaping (':' is outside A-Z a-z 0-9 . - _).</summary>
    [Benchmark]
    public int WriteEscapedName()
    {
        var w = new NoticeLineWriter(_line, NoticeVerbs.UdpDenied);
        w.AddEndpoint(NoticeKeys.Destination, new SocksAddress(AddressType.DomainName, _nameBytes, 53));
        w.Add(NoticeKeys.Reason, DeniedReasons.Policy);
        return w.TryComplete(out int n) ? n : -1;
    }

    [Benchmark]
    public int ReadV4() => Read(_v4Line);

    [Benchmark]
    public int ReadName() => Read(_nameLine);

    private static int Read(byte[] line)
    {
        var r = new NoticeLineReader(line);
        int total = r.IsWellFormed ? r.Verb.Length : -1;
        while (r.TryReadField(out var key, out var value))
        {
            total += key.Length + value.Length;
        }

        return total;
    }
}
