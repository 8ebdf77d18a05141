using Socks5UdpRelay.Server.Icmp;

namespace Socks5UdpRelay.Server.Transport;

/// <summary>A socket the engine could not open or set up; <see cref="Errno"/> is the kernel's reason.</summary>
internal sealed class TransportException(string operation, int errno)
    : Exception($"{operation} failed: {ErrnoTable.Name(errno)}")
{
    public string Operation { get; } = operation;

    public int Errno { get; } = errno;
}
