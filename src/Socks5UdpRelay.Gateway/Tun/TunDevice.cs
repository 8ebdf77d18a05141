using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Socks5UdpRelay.Gateway.Tun;

/// <summary>
/// A Linux TUN device (IFF_TUN | IFF_NO_PI: each read or write is exactly one IP packet), created
/// by opening <c>/dev/net/tun</c> and TUNSETIFF (the kernel's Documentation/networking/tuntap.rst).
/// The device is not persistent: it disappears, with its addresses and routes, when the descriptor
/// is closed, also when the process is killed. Reads are non-blocking and wait in poll(2) beside
/// an eventfd that <see cref="Stop"/> signals, so one dedicated thread reads and is woken at once
/// for shutdown (a blocking read(2) is not interrupted by closing the descriptor).
/// </summary>
internal sealed unsafe class TunDevice : IPacketDevice, IDisposable
{
    public const string DefaultPath = "/dev/net/tun";

    private readonly SafeFileHandle _tun;
    private readonly SafeFileHandle _stop;
    private int _stopped;

    private TunDevice(SafeFileHandle tun, SafeFileHandle stop, string name)
    {
        _tun = tun;
        _stop = stop;
        Name = name;
    }

    public string Name { get; }

    /// <summary>
    /// Creates the device <paramref name="name"/> in the calling thread's network namespace. Throws
    /// <see cref="GatewayException"/> with a one-line reason when it cannot.
    /// </summary>
    public static TunDevice Create(string name, string path = DefaultPath)
    {
        ValidateName(name);
        if (LibC.InterfaceNameToIndex(name) != 0)
        {
            // Attaching to a device someone else made (persistent TUN) would take over its traffic.
            throw new GatewayException($"network device {name} already exists (another gateway running? choose another device name)");
        }

        int fd = LibC.Open(path, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new GatewayException(errno switch
            {
                LibC.ENOENT or LibC.ENODEV or LibC.ENXIO => $"{path} does not exist: the kernel's tun module is missing (modprobe tun)",
                LibC.EACCES or LibC.EPERM => $"opening {path} was refused: the gateway needs root or CAP_NET_ADMIN",
                _ => $"opening {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}",
            });
        }

        var tun = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var request = default(LibC.InterfaceRequest);
            Encoding.ASCII.GetBytes(name, new Span<byte>(request.Name, LibC.InterfaceNameSize - 1));
            request.Flags = LibC.IFF_TUN | LibC.IFF_NO_PI;
            if (LibC.Ioctl(tun, LibC.TUNSETIFF, &request) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new GatewayException(errno switch
                {
                    LibC.EPERM or LibC.EACCES => $"creating TUN device {name} was refused: the gateway needs CAP_NET_ADMIN",
                    LibC.EBUSY => $"TUN device {name} is in use by another process",
                    _ => $"creating TUN device {name} failed: {Marshal.GetPInvokeErrorMessage(errno)}",
                });
            }

            int efd = LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (efd < 0)
            {
                throw new GatewayException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            return new TunDevice(tun, new SafeFileHandle(efd, ownsHandle: true), name);
        }
        catch
        {
            tun.Dispose();
            throw;
        }
    }

    /// <summary>Linux interface names: 1–15 bytes, no '/', ':' or white space, not "." or "..".</summary>
    public static void ValidateName(string name)
    {
        if (name.Length is 0 or >= LibC.InterfaceNameSize || name is "." or ".."
            || name.Any(c => c <= ' ' || c >= 0x7F || c is '/' or ':'))
        {
            throw new GatewayException($"invalid device name '{name}': 1 to 15 printable ASCII characters, without '/', ':' or spaces");
        }
    }

    public int Read(Span<byte> buffer, int timeoutMilliseconds)
    {
        while (Volatile.Read(ref _stopped) == 0)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.Read(_tun, p, (nuint)buffer.Length);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno != LibC.EAGAIN)
            {
                throw new IOException($"reading TUN device {Name} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            switch (WaitReadable(timeoutMilliseconds))
            {
                case 0:
                    return 0;
                case < 0:
                    return -1;
            }
        }

        return -1;
    }

    public bool Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        fixed (byte* a = first)
        fixed (byte* b = second)
        {
            var vectors = stackalloc LibC.IoVector[2];
            vectors[0] = new LibC.IoVector { Base = a, Length = (nuint)first.Length };
            vectors[1] = new LibC.IoVector { Base = b, Length = (nuint)second.Length };
            try
            {
                return LibC.WriteV(_tun, vectors, second.IsEmpty ? 1 : 2) == first.Length + second.Length;
            }
            catch (ObjectDisposedException)
            {
                // A reply racing the gateway's shutdown: the device is gone, the reply with it.
                return false;
            }
        }
    }

    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        ulong one = 1;
        LibC.Write(_stop, (byte*)&one, sizeof(ulong));
    }

    public void Dispose()
    {
        Stop();
        _stop.Dispose();
        _tun.Dispose();
    }

    /// <summary>1: the device has a packet; 0: the time passed; −1: stopped.</summary>
    private int WaitReadable(int timeoutMilliseconds)
    {
        bool tunAdded = false;
        bool stopAdded = false;
        try
        {
            _tun.DangerousAddRef(ref tunAdded);
            _stop.DangerousAddRef(ref stopAdded);
            var fds = stackalloc LibC.PollDescriptor[2];
            fds[0] = new LibC.PollDescriptor { Fd = (int)_tun.DangerousGetHandle(), Events = LibC.POLLIN };
            fds[1] = new LibC.PollDescriptor { Fd = (int)_stop.DangerousGetHandle(), Events = LibC.POLLIN };
            int ready = LibC.Poll(fds, 2, timeoutMilliseconds);
            if (ready < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == LibC.EINTR ? 1 : throw new IOException($"poll on TUN device {Name} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            if (fds[1].ReturnedEvents != 0)
            {
                return -1;
            }

            return ready == 0 ? 0 : 1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (stopAdded)
            {
                _stop.DangerousRelease();
            }

            if (tunAdded)
            {
                _tun.DangerousRelease();
            }
        }
    }
}
