using System.Buffers.Binary;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Stage 9: the largest datagram that makes the round trip to an echo responder through the
/// relay (a bounded binary search, <see cref="MtuSearch"/>), and whether the relay reported
/// fragmentation needed on the way (a <c>UDP-ERROR error=fragmentation-needed mtu=…</c> notice).
/// </summary>
internal sealed class MtuStage(RelayChannel channel, DoctorTarget echo, int knownGood, DoctorTiming timing)
{
    /// <summary>QUIC (RFC 9000 §14) needs paths that carry 1200-byte UDP payloads.</summary>
    public const int QuicMinimum = 1200;

    public async Task<StageResult> RunAsync(CancellationToken cancellationToken)
    {
        Span<byte> scratch = stackalloc byte[256];
        int header = UdpRequestHeader.GetLength(echo.ToSocksAddress(scratch));
        // The largest UDP payload over IPv4 is 65 507 bytes (65 535 - 20 - 8); over IPv6, 65 527.
        int datagram = channel.Relay.AddressFamily == AddressFamily.InterNetworkV6 ? 65_527 : 65_507;
        var search = new MtuSearch(knownGood, datagram - header);
        Notice? fragmentationNeeded = null;
        Notice? tooLarge = null;
        uint sequence = 0;
        while (search.Next() is int size)
        {
            var (answered, notice) = await ProbeAsync(size, ++sequence, cancellationToken).ConfigureAwait(false);
            if (!answered && notice?.ErrorKind == UdpErrorKind.FragmentationNeeded)
            {
                // The relay's kernel has learned the path MTU now and fragments the next one.
                fragmentationNeeded ??= notice;
                (answered, notice) = await ProbeAsync(size, ++sequence, cancellationToken).ConfigureAwait(false);
            }

            if (notice?.Verb == NoticeVerbs.UdpDenied && notice.Reason == DeniedReasons.TooLarge)
            {
                tooLarge ??= notice;
            }

            search.Report(size, answered);
        }

        // Datagrams larger than a link leave the relay fragmented and draw no error; one that fills a
        // 1500-byte packet exactly goes with DF set (Linux's IP_PMTUDISC_WANT), so a smaller link on
        // the way answers fragmentation needed. Ask once, if the search did not.
        int fullPacket = (echo.Address?.AddressFamily == AddressFamily.InterNetworkV6 ? 1500 - 40 : 1500 - 20) - 8;
        if (fragmentationNeeded is null && fullPacket <= search.Largest)
        {
            var (_, notice) = await ProbeAsync(fullPacket, ++sequence, cancellationToken).ConfigureAwait(false);
            if (notice?.ErrorKind == UdpErrorKind.FragmentationNeeded)
            {
                fragmentationNeeded = notice;
            }
        }

        var parts = new List<string>
        {
            $"largest round trip {search.Largest} bytes of payload ({search.Largest + header} with the SOCKS header) to {echo}",
        };
        if (search.SmallestLost is { } lost)
        {
            parts.Add(tooLarge is not null ? $"{lost} bytes refused by the proxy (UDP-DENIED reason=too-large)" : $"{lost} bytes lost");
        }

        parts.Add(fragmentationNeeded is { } f
            ? $"fragmentation needed reported by {f.From?.ToString() ?? "the path"}, path MTU {f.Mtu?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}: larger datagrams leave the relay fragmented"
            : "no fragmentation-needed notice");
        var facts = new Dictionary<string, object?>
        {
            ["largest_payload"] = search.Largest,
            ["smallest_lost"] = search.SmallestLost,
            ["frag_needed_mtu"] = fragmentationNeeded?.Mtu,
            ["steps"] = search.Steps,
        };
        string saw = string.Join("; ", parts);
        return search.Largest >= QuicMinimum
            ? StageResult.Ok(DoctorStage.Mtu, saw, facts)
            : StageResult.Warn(DoctorStage.Mtu, saw,
                $"datagrams above {search.Largest} bytes are lost on this path: QUIC (HTTP/3) needs {QuicMinimum}; look for a small MTU or dropped fragments between the relay and {echo}", facts);
    }

    private async Task<(bool Answered, Notice? Notice)> ProbeAsync(int size, uint sequence, CancellationToken cancellationToken)
    {
        var payload = new byte[size];
        payload.AsSpan().Fill((byte)'.');
        if (size >= 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(payload, sequence);
        }

        channel.Drain();
        await channel.SendAsync(echo, payload, cancellationToken).ConfigureAwait(false);
        var seen = await channel.WaitAsync(e => e.Kind switch
        {
            RelayEventKind.Datagram => echo.IsSource(e.Source!) && e.Payload!.Length == size && (size < 4 || BinaryPrimitives.ReadUInt32BigEndian(e.Payload) == sequence),
            RelayEventKind.Notice => RelayEventText.IsAbout(e.Notice!, echo),
            RelayEventKind.SocketError => e.Error == SocketError.MessageSize,
            _ => true,
        }, timing.ReplyWait, cancellationToken).ConfigureAwait(false);
        return (seen?.Kind == RelayEventKind.Datagram, seen?.Notice);
    }
}
