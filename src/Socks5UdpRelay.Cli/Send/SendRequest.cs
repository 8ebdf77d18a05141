using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Send;

/// <summary>What <c>send</c> was asked to do, after parsing.</summary>
internal sealed record SendRequest(
    string Host,
    int Port,
    AddressFamily? Family,
    string? Data,
    FileInfo? File,
    bool Raw,
    TimeSpan Wait,
    bool KeepGoing,
    int Count,
    TimeSpan Interval,
    bool AnySource = false);
