using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// Frames to one address, sent with as few <c>sendmmsg</c> calls as errors allow: the vectors
/// point into a <see cref="DatagramBatch"/>'s slots (no copy). One per loop thread.
/// </summary>
internal sealed unsafe class SendList : IDisposable
{
    private readonly MMsgHdr* _messages;
    private readonly IoVec* _iovecs;
    private readonly byte* _address;
    private int _count;
    private uint _addressLength;
    private int _disposed;

    public SendList()
    {
        _messages = (MMsgHdr*)NativeMemory.AllocZeroed(DatagramBatch.Capacity, (nuint)sizeof(MMsgHdr));
        _iovecs = (IoVec*)NativeMemory.AllocZeroed(DatagramBatch.Capacity, (nuint)sizeof(IoVec));
        _address = (byte*)NativeMemory.AllocZeroed(Addressing.RawSocketAddress.MaxLength);
    }

    public int Count => _count;

    public void Begin(ReadOnlySpan<byte> address)
    {
        int length = Math.Min(address.Length, Addressing.RawSocketAddress.MaxLength);
        address[..length].CopyTo(new Span<byte>(_address, Addressing.RawSocketAddress.MaxLength));
        _addressLength = (uint)length;
        _count = 0;
    }

    /// <summary>Adds a frame; it must live in native memory that stays put until <see cref="Send"/> (a batch slot).</summary>
    public void Add(Span<byte> frame)
    {
        _iovecs[_count] = new IoVec { Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(frame)), Length = (nuint)frame.Length };
        ref var header = ref _messages[_count].Header;
        header.Name = _address;
        header.NameLength = _addressLength;
        header.Iov = _iovecs + _count;
        header.IovLength = 1;
        _count++;
    }

    /// <summary>
    /// Sends what was added, without waiting. A frame the kernel refuses is skipped (a single send
    /// would have lost it too); a full socket buffer loses the rest. Returns how many frames went
    /// out and, in <paramref name="bytes"/>, their bytes.
    /// </summary>
    public int Send(SafeHandle socket, out long bytes)
    {
        bytes = 0;
        int total = 0;
        int next = 0;
        while (next < _count)
        {
            int n;
            try
            {
                n = Sys.SendMmsg(socket, _messages + next, (uint)(_count - next), MessageFlags.MSG_DONTWAIT);
            }
            catch (ObjectDisposedException)
            {
                break; // closed under us: the rest is lost, as for any datagram to a closing association
            }

            if (n > 0)
            {
                for (int i = next; i < next + n; i++)
                {
                    bytes += (long)_iovecs[i].Length;
                }

                total += n;
                next += n;
                continue;
            }

            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Errno.EAGAIN; // 0 sent without an error: stop as if full
            if (errno is Errno.EAGAIN or Errno.ENOBUFS)
            {
                break;
            }

            if (errno != Errno.EINTR)
            {
                next++; // that frame is lost; the others may still go
            }
        }

        return total;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            NativeMemory.Free(_messages);
            NativeMemory.Free(_iovecs);
            NativeMemory.Free(_address);
        }
    }
}
