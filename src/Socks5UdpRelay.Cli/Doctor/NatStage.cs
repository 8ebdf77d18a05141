using System.Net;
using System.Security.Cryptography;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Stage 8 (--stun): the NAT behaviour the relay shows to the outside, measured through the proxy
/// as RFC 5780 §4 measures a NAT, and named in RFC 4787 terms. Filtering is tested first, before
/// anything has been sent to the server's other address (which would open the filter for it).
/// </summary>
internal sealed class NatStage(RelayChannel channel, DoctorTarget stun, DoctorTiming timing)
{
    /// <summary>A STUN server may be far away: never listen for less than this.</summary>
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(500);

    public async Task<StageResult> RunAsync(CancellationToken cancellationToken)
    {
        var first = await BindingAsync(stun, 0, cancellationToken).ConfigureAwait(false);
        if (first is null)
        {
            return StageResult.Fail(DoctorStage.Nat, FailureSide.Path, $"the STUN server {stun} did not answer a Binding request through the proxy",
                "check --stun (a STUN server, usually port 3478); the relay or a firewall beyond it may drop its answer");
        }

        var (response, primary) = first.Value;
        if (response.Mapped is not { } mapped)
        {
            return StageResult.Warn(DoctorStage.Nat, $"{stun} answered without a mapped address", "use another STUN server");
        }

        if (response.Other is not { } other)
        {
            return StageResult.Warn(DoctorStage.Nat,
                $"the relay's outside address is {Show(mapped)}; {stun} names no other address (OTHER-ADDRESS/CHANGED-ADDRESS), so mapping and filtering cannot be told",
                "give --stun a server with two addresses (RFC 5780, or RFC 3489 such as stund)",
                new Dictionary<string, object?> { ["mapped"] = Show(mapped) });
        }

        bool fromOtherAddressAndPort = await BindingAsync(stun, StunMessage.ChangeIp | StunMessage.ChangePort, cancellationToken).ConfigureAwait(false) is not null;
        bool fromOtherPort = fromOtherAddressAndPort
            || await BindingAsync(stun, StunMessage.ChangePort, cancellationToken).ConfigureAwait(false) is not null;
        var filtering = NatBehaviour.Filtering(fromOtherAddressAndPort, fromOtherPort);

        var second = await BindingAsync(DoctorTarget.From(new IPEndPoint(other.Address, primary.Port)), 0, cancellationToken).ConfigureAwait(false);
        if (second?.Response.Mapped is not { } mappedToOther)
        {
            return StageResult.Warn(DoctorStage.Nat,
                $"{filtering.Name()} filtering; the relay's outside address is {Show(mapped)}, but {other.Address}:{primary.Port} (the server's other address) did not answer, so the mapping cannot be told",
                "check that the STUN server answers on both of its addresses",
                new Dictionary<string, object?> { ["filtering"] = filtering.Name(), ["mapped"] = Show(mapped) });
        }

        IPEndPoint? mappedToOtherPort = null;
        if (!mappedToOther.Equals(mapped))
        {
            mappedToOtherPort = (await BindingAsync(DoctorTarget.From(other), 0, cancellationToken).ConfigureAwait(false))?.Response.Mapped;
        }

        var mapping = NatBehaviour.Mapping(mapped, mappedToOther, mappedToOtherPort);
        string saw = $"{mapping.Name()} mapping, {filtering.Name()} filtering (RFC 4787; RFC 3489: {NatBehaviour.ClassicName(mapping, filtering)}); the relay's outside address {Show(mapped)}";
        var facts = new Dictionary<string, object?> { ["mapping"] = mapping.Name(), ["filtering"] = filtering.Name(), ["mapped"] = Show(mapped) };
        return mapping == NatDependence.EndpointIndependent
            ? StageResult.Ok(DoctorStage.Nat, saw, facts)
            : StageResult.Warn(DoctorStage.Nat, saw,
                "peer-to-peer traffic (WebRTC, games, STUN-based hole punching) rarely gets through a mapping that changes per destination (RFC 4787 REQ-1)", facts);
    }

    private static string Show(IPEndPoint endpoint) => RelayAddressCheck.Endpoint(endpoint);

    /// <summary>A Binding request (two tries), answered from wherever the change flags ask; the answer and where it came from, or null for silence.</summary>
    private async Task<(StunResponse Response, Socks5Endpoint Source)?> BindingAsync(DoctorTarget to, uint change, CancellationToken cancellationToken)
    {
        var wait = timing.ReplyWait > MinimumWait ? timing.ReplyWait : MinimumWait;
        var sent = new List<byte[]>();
        var request = new byte[StunMessage.MaxRequestLength];
        channel.Drain();
        for (int attempt = 0; attempt < 2; attempt++)
        {
            // Cookie and a random 96-bit ID: the 16 bytes an answer must repeat.
            var transaction = new byte[StunMessage.TransactionLength];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(transaction, StunMessage.MagicCookie);
            RandomNumberGenerator.Fill(transaction.AsSpan(4));
            sent.Add(transaction);
            int length = StunMessage.WriteBindingRequest(request, transaction.AsSpan(4), change);
            await channel.SendAsync(to, request.AsMemory(0, length), cancellationToken).ConfigureAwait(false);

            StunResponse? response = null;
            var seen = await channel.WaitAsync(
                e => e.Kind == RelayEventKind.Datagram && sent.Any(t => StunMessage.TryReadBindingResponse(e.Payload, t, out response)),
                wait,
                cancellationToken).ConfigureAwait(false);
            if (seen is not null)
            {
                return (response!, seen.Source!);
            }
        }

        return null;
    }
}
