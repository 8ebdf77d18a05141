using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Stage 10 (--idle SECONDS): does the association survive a quiet period? Proxies end idle
/// associations (ours with <c>CLOSING reason=idle-timeout</c>), and NATs on the way forget idle
/// UDP mappings (RFC 4787 REQ-5 asks for at least 2 minutes): a client then needs keep-alives.
/// </summary>
internal sealed class IdleStage(RelayChannel channel, DatagramProbe? probe, TimeSpan idle, DoctorTiming timing, TimeProvider time)
{
    public async Task<StageResult> RunAsync(CancellationToken cancellationToken)
    {
        string quiet = $"{idle.TotalSeconds:0.#} s of quiet";
        var pause = Task.Delay(idle, time, cancellationToken);
        if (await Task.WhenAny(channel.Closed, pause).ConfigureAwait(false) == channel.Closed)
        {
            var closing = channel.Notices.LastOrDefault(n => n.Verb == NoticeVerbs.Closing);
            return StageResult.Fail(DoctorStage.Idle, FailureSide.Proxy,
                closing is not null ? $"the proxy ended the association during {quiet} ({closing.Line})" : $"the proxy closed the control connection during {quiet}",
                $"send a datagram (a keep-alive) more often than every {idle.TotalSeconds:0.#} s, or raise the proxy's idle timeout (Socks5UdpRelay: Relay:AssociationIdleTimeout)");
        }

        await pause.ConfigureAwait(false);
        if (probe is null)
        {
            return StageResult.Ok(DoctorStage.Idle, $"the association survived {quiet} (no --target or --dns to test a datagram after it)");
        }

        var after = await DatagramStage.RoundTripAsync(channel, probe, timing, time, cancellationToken).ConfigureAwait(false);
        if (after.Answered)
        {
            return StageResult.Ok(DoctorStage.Idle, $"after {quiet}, a round trip to {probe.Target} still works ({HandshakeVerdicts.Milliseconds(after.Elapsed!.Value)})");
        }

        return after.Result is { } result
            ? result with { Stage = DoctorStage.Idle, Saw = $"after {quiet}: {result.Saw}" }
            : StageResult.Fail(DoctorStage.Idle, FailureSide.Proxy,
                $"after {quiet} the association is open but nothing comes back from {probe.Target}: the relay, or a NAT between here and it, forgot the mapping",
                $"send a keep-alive more often than every {idle.TotalSeconds:0.#} s");
    }
}
