using System.Runtime.InteropServices;
using Socks5UdpRelay.Gateway.Tests.Host;
using Socks5UdpRelay.Gateway.Tun;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Gateway.Tests.Tun;

public sealed class TunDeviceTests
{
    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a:b")]
    [InlineData("..")]
    [InlineData("tün0")]
    public void InvalidNames_AreRefusedInOneLine(string name)
    {
        var exception = Assert.Throws<GatewayException>(() => TunDevice.ValidateName(name));

        Assert.StartsWith($"invalid device name '{name}'", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s5tun0")]
    [InlineData("fifteen-chars-x")]
    [InlineData("gw.1_a-b")]
    public void ValidNames_Pass(string name) => TunDevice.ValidateName(name);

    [Fact]
    public void MissingTunNode_SaysTheModuleIsMissing()
    {
        var exception = Assert.Throws<GatewayException>(() => TunDevice.Create("s5tunx", "/nonexistent/tun"));

        Assert.Equal("/nonexistent/tun does not exist: the kernel's tun module is missing (modprobe tun)", exception.Message);
    }

    [RootFact]
    public void WithoutCapNetAdmin_SaysItIsNeeded()
    {
        using var topology = NetnsTopology.Create();

        var exception = NamespaceThread.Run(topology.ClientNamespace, () =>
        {
            // Capabilities are per thread: this one drops CAP_NET_ADMIN, the process keeps it.
            Capabilities.DropFromThisThread(Capabilities.NetAdmin);
            return Assert.Throws<GatewayException>(() => TunDevice.Create("s5tunx"));
        });

        Assert.Equal("creating TUN device s5tunx was refused: the gateway needs CAP_NET_ADMIN", exception.Message);
    }

    [RootFact]
    public void ExistingDeviceName_IsRefused()
    {
        using var topology = NetnsTopology.Create();

        var exception = NamespaceThread.Run(topology.ClientNamespace, () => Assert.Throws<GatewayException>(() => TunDevice.Create("to-relay")));

        Assert.StartsWith("network device to-relay already exists", exception.Message, StringComparison.Ordinal);
    }

    [RootFact]
    public void Read_TimesOutWithZero_AndReturnsMinusOneOnceStopped()
    {
        using var topology = NetnsTopology.Create();
        using var device = NamespaceThread.Run(topology.ClientNamespace, () => TunDevice.Create("s5tunr"));
        var buffer = new byte[2048];

        Assert.Equal(0, device.Read(buffer, timeoutMilliseconds: 10));

        var reader = Task.Factory.StartNew(() => device.Read(buffer, Timeout.Infinite), TaskCreationOptions.LongRunning);
        device.Stop();
        Assert.True(reader.Wait(TestTimeout.Default));
        Assert.Equal(-1, reader.Result);
        Assert.Equal(-1, device.Read(buffer, 10));
    }

    [RootFact]
    public void ClosingTheDevice_RemovesIt()
    {
        using var topology = NetnsTopology.Create();
        var device = NamespaceThread.Run(topology.ClientNamespace, () => TunDevice.Create("s5tunc"));
        Assert.Contains("s5tunc", topology.Exec(topology.ClientNamespace, "ip", "link", "show"), StringComparison.Ordinal);

        device.Dispose();

        Assert.DoesNotContain("s5tunc", topology.Exec(topology.ClientNamespace, "ip", "link", "show"), StringComparison.Ordinal);
    }

    [RootFact]
    public void WriteAfterDispose_ReturnsFalse()
    {
        using var topology = NetnsTopology.Create();
        var device = NamespaceThread.Run(topology.ClientNamespace, () => TunDevice.Create("s5tunw"));

        device.Dispose();

        Assert.False(device.Write(new byte[20], default));
    }

    /// <summary>capget/capset on the calling thread (linux/capability.h, version 3: two 32-bit words per set).</summary>
    private static unsafe class Capabilities
    {
        public const int NetAdmin = 12;

        private const uint Version3 = 0x20080522;

        public static void DropFromThisThread(int capability)
        {
            var header = new Header { Version = Version3, Pid = 0 };
            var data = stackalloc Data[2];
            if (capget(&header, data) != 0)
            {
                throw new InvalidOperationException($"capget failed: {Marshal.GetLastPInvokeError()}");
            }

            data[0].Effective &= ~(1u << capability);
            if (capset(&header, data) != 0)
            {
                throw new InvalidOperationException($"capset failed: {Marshal.GetLastPInvokeError()}");
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int capget(Header* header, Data* data);

        [DllImport("libc", SetLastError = true)]
        private static extern int capset(Header* header, Data* data);

        [StructLayout(LayoutKind.Sequential)]
        private struct Header
        {
            public uint Version;
            public int Pid;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct Data
        {
            public uint Effective;
            public uint Permitted;
            public uint Inheritable;
        }
    }
}
