using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Tests.Shared;

/// <summary>
/// Independent SOCKS5 servers (and a STUN server) from Debian, started unmodified on 127.0.0.1
/// and a free port with a temporary configuration, each as its own documentation says to run it.
/// Traffic goes to loopback only: every configuration below permits loopback destinations and
/// nothing in the tests sends anywhere else.
/// </summary>
public static class PeerServers
{
    public const string Hpsockd = "/usr/sbin/hpsockd";
    public const string Microsocks = "/usr/bin/microsocks";
    public const string V2ray = "/usr/bin/v2ray";
    public const string SsServer = "/usr/bin/ss-server";
    public const string SsLocal = "/usr/bin/ss-local";
    public const string Stund = "/usr/sbin/stund";

    /// <summary>
    /// hpsockd (HP's SOCKS daemon, package hpsockd), configured as /usr/share/doc/hpsockd/html/config.html
    /// describes: no authentication for 127.0.0.0/8, every request permitted. It daemonizes.
    /// </summary>
    public static Task<PeerProcess> StartHpsockdAsync(int port)
    {
        string directory = PeerProcess.NewDirectory("hpsockd");
        // The daemon runs as nobody and writes its negotiation file into its directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        }
        string config = Path.Combine(directory, "hpsockd.conf");
        File.WriteAllText(config, $$"""
            daemon {
                listen-address { 127.0.0.1; };
                port {{port}};
                directory "{{directory}}";
                negotiate-file "negot_file";
                user "nobody";
                pre-fork 1;
            };
            route {
                { default 127.0.0.1 };
            };
            method-list {
                { number 0; name "noAuth"; internal; flags 0; };
            };
            client-method {
                { src { 127.0.0.0/8; }; method { "noAuth"; }; };
            };
            client {
                permit { src { 127.0.0.0/8; }; dest { 127.0.0.0/8; }; };
                deny { };
            };
            """);
        return PeerProcess.StartAsync(Hpsockd, ["-c", config], directory, () => PeerProcess.AcceptsTcpAsync(port));
    }

    /// <summary>microsocks (package microsocks): a SOCKS5 server without UDP ASSOCIATE.</summary>
    public static Task<PeerProcess> StartMicrosocksAsync(int port)
    {
        string directory = PeerProcess.NewDirectory("microsocks");
        return PeerProcess.StartAsync(Microsocks, ["-i", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], directory,
            () => PeerProcess.AcceptsTcpAsync(port));
    }

    /// <summary>v2ray (package v2ray): a socks inbound with UDP on (its "udp" and "ip" settings), a freedom outbound.</summary>
    public static Task<PeerProcess> StartV2rayAsync(int port)
    {
        string directory = PeerProcess.NewDirectory("v2ray");
        string config = Path.Combine(directory, "config.json");
        File.WriteAllText(config, $$"""
            {
              "log": { "loglevel": "warning" },
              "inbounds": [ { "listen": "127.0.0.1", "port": {{port}}, "protocol": "socks",
                              "settings": { "auth": "noauth", "udp": true, "ip": "127.0.0.1" } } ],
              "outbounds": [ { "protocol": "freedom" } ]
            }
            """);
        return PeerProcess.StartAsync(V2ray, ["-config", config], directory, () => PeerProcess.AcceptsTcpAsync(port));
    }

    /// <summary>
    /// shadowsocks-libev: ss-server, and ss-local in front of it as the SOCKS5 server on
    /// <paramref name="localPort"/>, both with UDP relay on (-u), as ss-local(1) describes.
    /// </summary>
    public static async Task<(PeerProcess Server, PeerProcess Local)> StartShadowsocksAsync(int localPort)
    {
        int serverPort = FreePorts.TcpAndUdp();
        string serverDirectory = PeerProcess.NewDirectory("ss-server");
        var server = await PeerProcess.StartAsync(SsServer,
            ["-s", "127.0.0.1", "-p", Text(serverPort), "-k", "doctor-test", "-m", "aes-256-gcm", "-u"],
            serverDirectory, () => PeerProcess.AcceptsTcpAsync(serverPort));
        try
        {
            string localDirectory = PeerProcess.NewDirectory("ss-local");
            var local = await PeerProcess.StartAsync(SsLocal,
                ["-s", "127.0.0.1", "-p", Text(serverPort), "-b", "127.0.0.1", "-l", Text(localPort), "-k", "doctor-test", "-m", "aes-256-gcm", "-u"],
                localDirectory, () => PeerProcess.AcceptsTcpAsync(localPort));
            return (server, local);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// stund (package stun-server), the classic RFC 3489 server: it needs two addresses, here
    /// 127.0.0.1 and 127.0.0.2 (all of 127.0.0.0/8 is this host's), each on <paramref name="port"/> and <paramref name="port"/>+1.
    /// </summary>
    public static Task<PeerProcess> StartStundAsync(int port)
    {
        string directory = PeerProcess.NewDirectory("stund");
        return PeerProcess.StartAsync(Stund, ["-h", "127.0.0.1", "-a", "127.0.0.2", "-p", Text(port), "-o", Text(port + 1)], directory,
            () => AnswersStunAsync(port));
    }

    private static string Text(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True once a Binding request (RFC 5389 §6: type 1, length 0, cookie, 12-byte ID) gets any answer.</summary>
    private static async Task<bool> AnswersStunAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        byte[] request = [0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        await socket.SendAsync(request);
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            return await socket.ReceiveAsync(new byte[512], SocketFlags.None, wait.Token) > 0;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }
}
