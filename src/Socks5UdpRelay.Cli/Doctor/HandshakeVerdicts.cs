using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Stages 1 to 3: what the TCP connect, the method negotiation and the UDP ASSOCIATE reply mean, and what to change.</summary>
internal static class HandshakeVerdicts
{
    public static StageResult Connect(ConnectOutcome outcome, string proxy)
    {
        if (outcome.Dialog is { } dialog)
        {
            string earlier = outcome.Failures.Count == 0 ? string.Empty
                : $" (after {string.Join(", ", outcome.Failures.Select(f => $"{f.EndPoint}: {Describe(f.Error)}"))})";
            return StageResult.Ok(
                DoctorStage.Proxy,
                $"TCP to {dialog.Remote} connected in {Milliseconds(outcome.Elapsed)}{earlier}",
                new Dictionary<string, object?> { ["address"] = dialog.Remote.ToString(), ["rtt_ms"] = Math.Round(outcome.Elapsed.TotalMilliseconds, 2) });
        }

        if (outcome.ResolveProblem is { } problem)
        {
            return StageResult.Fail(DoctorStage.Proxy, FailureSide.Proxy, $"{proxy}: {problem}", "check the proxy's name, or give its address");
        }

        var last = outcome.Failures[^1];
        string tried = string.Join("; ", outcome.Failures.Select(f => $"{f.EndPoint}: {Describe(f.Error)}"));
        string fix = last.Error switch
        {
            SocketError.ConnectionRefused => "nothing listens there: check the port, and that the proxy runs and listens on that address (not only on 127.0.0.1)",
            SocketError.TimedOut => "no answer at all: a firewall drops the connection, or the host is down; check the address and the firewall",
            SocketError.ConnectionReset => "something accepted and reset the connection: a firewall or an access list in front of the proxy",
            SocketError.HostUnreachable or SocketError.NetworkUnreachable => "there is no route to the proxy from here: check the address and this host's network",
            _ => "check the proxy's address and port",
        };
        return StageResult.Fail(DoctorStage.Proxy, FailureSide.Proxy, $"could not connect: {tried}", fix);
    }

    public static StageResult Methods(MethodOutcome outcome, string? user)
    {
        string offered = string.Join(", ", outcome.Offered.Select(MethodName));
        if (outcome.Problem is { } problem)
        {
            return StageResult.Fail(
                DoctorStage.Authentication,
                FailureSide.Proxy,
                $"offered {offered}; got {problem}",
                problem.Contains("HTTP", StringComparison.Ordinal)
                    ? "this is an HTTP proxy, not SOCKS5: use a SOCKS5 port"
                    : "this port does not speak SOCKS5 (a SOCKS4-only server, or another service): check the port");
        }

        switch (outcome.Chosen)
        {
            case AuthMethod.NoAuthentication:
                return StageResult.Ok(DoctorStage.Authentication, $"offered {offered}; the proxy chose no authentication",
                    new Dictionary<string, object?> { ["method"] = "none" });
            case AuthMethod.UsernamePassword when outcome.AuthStatus == UsernamePasswordAuth.StatusSuccess:
                return StageResult.Ok(DoctorStage.Authentication, $"offered {offered}; username/password accepted for {user}",
                    new Dictionary<string, object?> { ["method"] = "username-password" });
            case AuthMethod.UsernamePassword when outcome.AuthStatus is { } status:
                return StageResult.Fail(DoctorStage.Authentication, FailureSide.Authentication,
                    $"the proxy rejected the username and password for {user} (RFC 1929 status 0x{status:X2})",
                    "check the user name and the password (SOCKS5_PASSWORD or --password-env)");
            case AuthMethod.NoAcceptableMethods:
                return StageResult.Fail(DoctorStage.Authentication, FailureSide.Authentication,
                    $"offered {offered}; the proxy accepted none of them (0xFF)",
                    user is null
                        ? "the proxy wants credentials: --proxy socks5://USER@host:port with the password in SOCKS5_PASSWORD"
                        : "the proxy accepts neither no-authentication nor username/password (GSSAPI only?)");
            default:
                return StageResult.Fail(DoctorStage.Authentication, FailureSide.Proxy,
                    $"offered {offered}; the proxy chose {MethodName(outcome.Chosen!.Value)}, which was not offered",
                    "the server breaks RFC 1928, section 3: report it to its maintainers");
        }
    }

    public static StageResult Associate(RequestOutcome outcome)
    {
        if (outcome.Problem is { } problem)
        {
            return StageResult.Fail(DoctorStage.Associate, FailureSide.Proxy, $"no reply to UDP ASSOCIATE: {problem}",
                "the server may not implement UDP ASSOCIATE at all; check its logs");
        }

        var reply = outcome.Reply!.Value;
        if (reply == ReplyCode.Succeeded)
        {
            return StageResult.Ok(DoctorStage.Associate, $"succeeded, relay {outcome.Bound} (BND as the proxy sent it)",
                new Dictionary<string, object?> { ["bnd"] = outcome.Bound!.ToString() });
        }

        string saw = $"the proxy answered 0x{(byte)reply:X2} ({Socks5Reply.Describe(reply)})";
        string fix = reply switch
        {
            ReplyCode.CommandNotSupported => "this server does not relay UDP (microsocks, many HTTP-first proxies): use one that implements UDP ASSOCIATE, or enable it (Dante: `command: udpassociate` in a socks pass rule; shadowsocks: -u)",
            ReplyCode.ConnectionNotAllowed => "the server's rules do not allow UDP for this client: the operator must permit UDP ASSOCIATE for your address or user",
            ReplyCode.GeneralFailure => "the server could not set up a relay (no free UDP port in its range, a limit reached, or an internal error): see its log",
            ReplyCode.AddressTypeNotSupported => "the server did not accept the 0.0.0.0:0 address in the request: report it to its maintainers",
            _ => "see the server's log for why it refused",
        };
        return StageResult.Fail(DoctorStage.Associate, FailureSide.Proxy, saw, fix,
            new Dictionary<string, object?> { ["reply"] = (int)reply });
    }

    public static string Milliseconds(TimeSpan elapsed) => $"{elapsed.TotalMilliseconds:0.0} ms";

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "refused",
        SocketError.TimedOut => "timed out",
        SocketError.ConnectionReset => "reset",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.AccessDenied => "not permitted here",
        _ => error.ToString(),
    };

    private static string MethodName(AuthMethod method) => method switch
    {
        AuthMethod.NoAuthentication => "no-authentication",
        AuthMethod.UsernamePassword => "username/password",
        AuthMethod.Gssapi => "GSSAPI",
        _ => $"method 0x{(byte)method:X2}",
    };
}
