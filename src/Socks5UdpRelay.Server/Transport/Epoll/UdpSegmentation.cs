using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// UDP segmentation offload (ARCHITECTURE.md, "Segmentation offload"), the pure part: which
/// consecutive datagrams may leave as one GSO send, and the two control messages — the size a
/// GSO send cuts its buffer into (<c>UDP_SEGMENT</c>, a u16 on sendmsg) and the size of the
/// datagrams a GRO read coalesced (<c>UDP_GRO</c>, an int on recvmsg). Tested byte by byte.
/// </summary>
internal static class UdpSegmentation
{
    /// <summary>The most datagrams one GSO send carries: UDP_MAX_SEGMENTS before Linux 6.11 (128 since).</summary>
    public const int MaxSegments = 64;

    /// <summary>The most bytes one GSO send carries: a UDP payload's limit over IPv4 (65 535 minus 20 for IP, 8 for UDP), which IPv6 (65 527) also takes.</summary>
    public const int MaxBytes = 65_507;

    /// <summary>CMSG_SPACE(sizeof(u16)): a cmsghdr (16 bytes) and the u16, padded to 8.</summary>
    public const int ControlSpace = 24;

    /// <summary>CMSG_LEN(sizeof(u16)): what the cmsghdr's length says.</summary>
    private const int ControlLength = 18;

    /// <summary>
    /// How many datagrams from <paramref name="start"/> leave in one send: a run of equal sizes
    /// (the last may be shorter, and then ends it), at most <see cref="MaxSegments"/> and
    /// <see cref="MaxBytes"/> in all, of a size from 1 to <paramref name="maxSegment"/> (what this
    /// socket's path has not refused; 0: no segmentation at all). 1 means a plain send.
    /// </summary>
    public static int RunLength(ReadOnlySpan<int> lengths, int start, int maxSegment)
    {
        int size = lengths[start];
        if (size <= 0 || size > maxSegment)
        {
            return 1;
        }

        int total = size;
        int end = start + 1;
        while (end < lengths.Length && end - start < MaxSegments)
        {
            int next = lengths[end];
            if (next <= 0 || next > size || total + next > MaxBytes)
            {
                break;
            }

            total += next;
            end++;
            if (next < size)
            {
                break; // the kernel cuts at every size bytes: only the last may be shorter
            }
        }

        return end - start;
    }

    /// <summary>Writes the UDP_SEGMENT control message for datagrams of <paramref name="size"/> bytes into <paramref name="control"/> (<see cref="ControlSpace"/> bytes).</summary>
    public static void WriteSegmentSize(Span<byte> control, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, ushort.MaxValue);
        control[..ControlSpace].Clear();
        var header = new CmsgHdr { Length = ControlLength, Level = SocketOptions.SOL_UDP, Type = SocketOptions.UDP_SEGMENT };
        MemoryMarshal.Write(control, in header);
        BinaryPrimitives.WriteUInt16LittleEndian(control[Marshal.SizeOf<CmsgHdr>()..], (ushort)size);
    }

    /// <summary>
    /// The size of the datagrams a GRO read holds, from its control area: the UDP_GRO control
    /// message's int; 0 when there is none (one datagram) or the area is malformed.
    /// </summary>
    public static int ReadSegmentSize(ReadOnlySpan<byte> control)
    {
        int headerSize = Marshal.SizeOf<CmsgHdr>();
        int offset = 0;
        while (offset + headerSize <= control.Length)
        {
            var header = MemoryMarshal.Read<CmsgHdr>(control[offset..]);
            if (header.Length < (nuint)headerSize || header.Length > (nuint)(control.Length - offset))
            {
                return 0;
            }

            int length = (int)header.Length;
            if (header.Level == SocketOptions.SOL_UDP && header.Type == SocketOptions.UDP_GRO && length - headerSize >= sizeof(int))
            {
                return Math.Max(0, MemoryMarshal.Read<int>(control[(offset + headerSize)..]));
            }

            offset += (length + CmsgHdr.Alignment - 1) & ~(CmsgHdr.Alignment - 1);
        }

        return 0;
    }
}
