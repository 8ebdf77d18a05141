using System.Buffers.Binary;
using System.Text;
using Socks5UdpRelay.Cli.Probe;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What stage 5 sends to a service that answers (--target, --dns), and how it knows the answer.</summary>
internal sealed class DatagramProbe
{
    private DatagramProbe(DoctorTarget target, byte[] payload, string what, Func<byte[], byte[], bool> isAnswer)
    {
        Target = target;
        Payload = payload;
        What = what;
        _isAnswer = isAnswer;
    }

    private readonly Func<byte[], byte[], bool> _isAnswer;

    public DoctorTarget Target { get; }

    public byte[] Payload { get; }

    /// <summary>"echo or reply" or "DNS query": for the report.</summary>
    public string What { get; }

    /// <summary>Any datagram from --target is its answer (an echo, or any UDP service's reply); a payload of text so a packet capture reads well.</summary>
    public static DatagramProbe Reply(DoctorTarget target) =>
        new(target, Encoding.ASCII.GetBytes($"s5nc doctor {Random.Shared.Next():x8}"), "a datagram", static (_, _) => true);

    /// <summary>A DNS query (RFC 1035 §4.1.1): the answer is a response (QR set) with the query's ID.</summary>
    public static DatagramProbe Dns(DoctorTarget server) =>
        new(server, BuiltinProbes.DnsRootNsQuery(), "a DNS query (. NS)", static (query, answer) =>
            answer.Length >= 12
            && BinaryPrimitives.ReadUInt16BigEndian(answer) == BinaryPrimitives.ReadUInt16BigEndian(query)
            && (answer[2] & 0x80) != 0);

    public bool IsAnswer(byte[] payload) => _isAnswer(Payload, payload);

    /// <summary>True when the answer is the probe itself, sent back: an echo responder (RFC 862), usable for the path MTU.</summary>
    public bool IsEcho(byte[] payload) => payload.AsSpan().SequenceEqual(Payload);

    /// <summary>The DNS RCODE of an answer, for the report.</summary>
    public static int DnsRcode(byte[] answer) => answer[3] & 0x0F;
}
