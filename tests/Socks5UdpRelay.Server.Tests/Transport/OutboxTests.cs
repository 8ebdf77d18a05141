using Socks5UdpRelay.Server.Transport.Epoll;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>The per-loop outbox: datagrams to several destinations queued during one batch, taken per destination in order.</summary>
public sealed unsafe class OutboxTests
{
    private static readonly byte[] Data = GC.AllocateArray<byte>(64, pinned: true);

    [Fact]
    public void InterleavedDestinations_EachTakeTheirOwn_InTheOrderQueued()
    {
        var outbox = new Outbox(16);
        var a = default(Outbox.Queue);
        var b = default(Outbox.Queue);
        fixed (byte* data = Data)
        {
            Assert.True(outbox.TryAdd(ref a, data + 0, 10));
            Assert.True(outbox.TryAdd(ref b, data + 10, 20));
            Assert.True(outbox.TryAdd(ref a, data + 30, 11));
            Assert.True(outbox.TryAdd(ref b, data + 41, 21));
            Assert.True(outbox.TryAdd(ref a, data + 62, 2));
            Assert.Equal((3, 2), (outbox.Queued(a), outbox.Queued(b)));

            using var list = new SendList();
            list.Begin(default);
            Assert.Equal(3, outbox.TakeInto(ref a, list));
            Assert.Equal(0, outbox.Queued(a));
            Assert.Equal(5, outbox.Count); // b still waits: nothing is reused under it
            Assert.Equal(2, outbox.TakeInto(ref b, list));
            Assert.Equal(0, outbox.Count); // every queue taken: the outbox starts over
            Assert.Equal(5, list.Count);
        }
    }

    [Fact]
    public void Full_RefusesMore_UntilTaken()
    {
        var outbox = new Outbox(2);
        var a = default(Outbox.Queue);
        fixed (byte* data = Data)
        {
            Assert.True(outbox.TryAdd(ref a, data, 1));
            Assert.True(outbox.TryAdd(ref a, data, 1));
            Assert.False(outbox.TryAdd(ref a, data, 1));
            using var list = new SendList();
            list.Begin(default);
            Assert.Equal(2, outbox.TakeInto(ref a, list));
            Assert.True(outbox.TryAdd(ref a, data, 1));
        }
    }

    [Fact]
    public void ResetOrForget_LeaveNothingToTake()
    {
        var outbox = new Outbox(8);
        var a = default(Outbox.Queue);
        var b = default(Outbox.Queue);
        fixed (byte* data = Data)
        {
            outbox.TryAdd(ref a, data, 1);
            outbox.TryAdd(ref b, data, 1);
            outbox.Forget(ref b);
            Assert.Equal(0, outbox.Queued(b));
            Assert.Equal(1, outbox.Queued(a));

            outbox.Reset(); // the loop's work item ended without a flush
            Assert.Equal((0, 0), (outbox.Queued(a), outbox.Count));
            using var list = new SendList();
            list.Begin(default);
            Assert.Equal(0, outbox.TakeInto(ref a, list));
            Assert.True(outbox.TryAdd(ref a, data, 1));
            Assert.Equal(1, outbox.Queued(a));
        }
    }
}
