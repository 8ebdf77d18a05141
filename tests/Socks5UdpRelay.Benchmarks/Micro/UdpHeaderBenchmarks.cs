using System.Net;
using BenchmarkDotNet.Attributes;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Micro;

/// <summary>Parse and format of the RFC 1928 §7 UDP header for each ATYP: the per-datagram work of the relay and its clients.</summary>
[MemoryDiagnoser]
public class UdpHeaderBenchmarks
{
    private readonly byte[] _buffer = new byte[UdpRequestHeader.MaxLength + 64];
    private readonly byte[] _ipv4 = new byte[UdpRequestHeader.IPv4Length + 64];
    private readonly byte[] _ipv6 = new byte[UdpRequestHeader.IPv6Length + 64];
    private readonly byte[] _domain = new byte[UdpRequestHeader.MaxLength + 64];
    private readonly byte[] _v4Bytes = [192, 0, 2, 7];
    private readonly byte[] _v6Bytes = IPAddress.Parse("2001:db8::7").GetAddressBytes();
    private readonly byte[] _nameBytes = "ntp.example.com"u8.ToArray();
    private readonly IPAddress _v4 = IPAddress.Parse("192.0.2.7");

    [GlobalSetup]
    public void Setup()
    {
        UdpRequestHeader.Write(_ipv4, new SocksAddress(AddressType.IPv4, _v4Bytes, 53));
        UdpRequestHeader.Write(_ipv6, new SocksAddress(AddressType.IPv6, _v6Bytes, 53));
        UdpRequestHeader.Write(_domain, new SocksAddress(AddressType.DomainName, _nameBytes, 123));
    }

    [Benchmark]
    public int ParseIPv4() => Parse(_ipv4);

    [Benchmark]
    public int ParseIPv6() => Parse(_ipv6);

    [Benchmark]
    public int ParseDomain() => Parse(_domain);

    [Benchmark]
    public int WriteIPv4() => UdpRequestHeader.Write(_buffer, new SocksAddress(AddressType.IPv4, _v4Bytes, 53));

    [Benchmark]
    public int WriteIPv6() => UdpRequestHeader.Write(_buffer, new SocksAddress(AddressType.IPv6, _v6Bytes, 53));

    [Benchmark]
    public int WriteDomain() => UdpRequestHeader.Write(_buffer, new SocksAddress(AddressType.DomainName, _nameBytes, 123));

    /// <summary>The overload the server uses once per destination socket (an <see cref="IPAddress"/>).</summary>
    [Benchmark]
    public int WriteIPAddress() => UdpRequestHeader.Write(_buffer, _v4, 53);

    private static int Parse(byte[] datagram)
    {
        if (!UdpRequestHeader.TryParse(datagram, out byte fragment, out var destination, out int headerLength))
        {
            throw new InvalidOperationException("header did not parse");
        }

        return headerLength + fragment + destination.Port + destination.AddressBytes.Length;
    }
}
