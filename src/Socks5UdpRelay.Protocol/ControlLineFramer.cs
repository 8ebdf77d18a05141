using System.Buffers;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Cuts the byte stream of a control connection into lines: notices and answers one way,
/// commands the other (the README, "Notices" and "Client commands"). A line is at most
/// <see cref="NoticeFormat.MaxLineLength"/> bytes, its <c>\n</c> included; a longer one is
/// reported once and the rest of it, up to its <c>\n</c>, is discarded, however many reads
/// it spans. Allocates nothing; the caller owns the buffer and keeps what is not consumed.
/// </summary>
/// <remarks>
/// Use: append what the socket gave to the unconsumed bytes, call <see cref="TryReadLine"/>
/// until it returns <see cref="OperationStatus.NeedMoreData"/>, dropping <c>consumed</c> bytes
/// from the front after each call. A buffer of <see cref="NoticeFormat.MaxLineLength"/> bytes
/// is enough: the framer never asks to keep more than a line's worth.
/// </remarks>
public struct ControlLineFramer
{
    private bool _discarding;

    /// <summary>Takes one whole line, its <c>\n</c> included; the span is valid only during the call.</summary>
    public delegate void LineHandler(ReadOnlySpan<byte> line);

    /// <summary>True while the rest of an over-long line is being discarded.</summary>
    public readonly bool IsDiscarding => _discarding;

    /// <summary>
    /// <see cref="OperationStatus.Done"/>: <paramref name="line"/> is the next line, <c>\n</c>
    /// included; <paramref name="consumed"/> covers it and any discarded bytes before it.
    /// <see cref="OperationStatus.NeedMoreData"/>: no whole line yet; <paramref name="consumed"/>
    /// is the discarded bytes that may be dropped (0 unless discarding), the rest must be kept.
    /// <see cref="OperationStatus.InvalidData"/>: a line longer than the limit starts here;
    /// <paramref name="consumed"/> covers it as far as it is buffered (to its <c>\n</c> when that
    /// is buffered too, otherwise everything, and later calls discard the rest).
    /// </summary>
    public OperationStatus TryReadLine(ReadOnlySpan<byte> buffered, out ReadOnlySpan<byte> line, out int consumed)
    {
        line = default;
        consumed = 0;
        if (_discarding)
        {
            int end = buffered.IndexOf((byte)'\n');
            if (end < 0)
            {
                consumed = buffered.Length;
                return OperationStatus.NeedMoreData;
            }

            _discarding = false;
            consumed = end + 1;
            buffered = buffered[consumed..];
        }

        var window = buffered.Length > NoticeFormat.MaxLineLength ? buffered[..NoticeFormat.MaxLineLength] : buffered;
        int newline = window.IndexOf((byte)'\n');
        if (newline >= 0)
        {
            line = buffered[..(newline + 1)];
            consumed += newline + 1;
            return OperationStatus.Done;
        }

        if (buffered.Length < NoticeFormat.MaxLineLength)
        {
            return OperationStatus.NeedMoreData;
        }

        int lineEnd = buffered.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            _discarding = true;
            consumed += buffered.Length;
        }
        else
        {
            consumed += lineEnd + 1;
        }

        return OperationStatus.InvalidData;
    }

    /// <summary>
    /// Hands every whole line in the first <paramref name="have"/> bytes of <paramref name="buffer"/>
    /// to <paramref name="onLine"/>, and each over-long one to <paramref name="onSkipped"/>; moves
    /// what is left (part of a line) to the buffer's start and returns its length.
    /// </summary>
    public int ReadLines(Span<byte> buffer, int have, LineHandler onLine, Action onSkipped)
    {
        while (true)
        {
            var status = TryReadLine(buffer[..have], out var line, out int consumed);
            if (status == OperationStatus.Done)
            {
                onLine(line);
            }
            else if (status == OperationStatus.InvalidData)
            {
                onSkipped();
            }

            buffer[consumed..have].CopyTo(buffer);
            have -= consumed;
            if (status == OperationStatus.NeedMoreData)
            {
                return have;
            }
        }
    }
}
