using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Icmp;

/// <summary>Loopback sockets and bounded waits shared by the error-queue tests.</summary>
internal static class LoopbackUdp
{
    /// <summary>The error-queue source, or a failed test naming why it fell back to errnos.</summary>
    public static ErrorSource CreateReader()
    {
        var source = ErrorSource.Create();
        Assert.True(source.UsesErrorQueue, source.Description);
        return source;
    }

    public static bool Enable(this ErrorSource source, Socket socket)
    {
        try
        {
            return source.Enable(socket.SafeHandle, socket.AddressFamily, socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Reads the queue of <paramref name="socket"/> as the relay does on an epoll error signal (no errno).</summary>
    public static int Drain(this ErrorSource source, Socket socket, List<ErrorReport> reports) => source.Read(socket.SafeHandle, 0, reports);

    /// <summary>
    /// Waits, bounded, until the ICMP for the datagram just sent has set the socket's pending error,
    /// then reads (and so clears) that error: poll(POLLERR) blocks until an error or a queued entry
    /// exists; SO_ERROR tells a new error from entries queued before.
    /// </summary>
    public static SocketError WaitForPendingError(Socket socket)
    {
        var deadline = DateTime.UtcNow + TestTimeout.Default;
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError), "no error became pending");
        var spin = default(SpinWait);
        while (true)
        {
            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                return error;
            }

            Assert.True(DateTime.UtcNow < deadline, "SO_ERROR stayed 0");
            spin.SpinOnce();
        }
    }

    /// <summary>Awaits a receive that the arriving ICMP error must fault; returns its SocketError.</summary>
    public static async Task<SocketError> ReceiveFaultAsync(Task<int> pendingReceive)
    {
        var e = await Assert.ThrowsAsync<SocketException>(() => pendingReceive.WaitAsync(TestTimeout.Default));
        return e.SocketErrorCode;
    }

    public static void AssertNoEntries(ErrorSource reader, Socket socket)
    {
        var reports = new List<ErrorReport>();
        Assert.Equal(0, reader.Drain(socket, reports));
        Assert.Empty(reports);
    }
}
