using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Server.Control;

/// <summary>Which commands clients may send, and how fast (README, "Client commands").</summary>
internal sealed record CommandSettings(OfferedCommands Offered, int PerSecond, int Burst);

/// <summary>
/// Reads the command lines a client writes on its association's control connection (README,
/// "Client commands"), one at a time: frames and parses each without allocating, carries it out
/// on the association's loop, and writes its one answer before reading the next. Answers are
/// never dropped: a client that does not read them is not read either. Until the connection
/// ends (which ends the association, as RFC 1928 §7 ties the two), nothing is held while the
/// client is quiet but a zero-byte receive.
/// </summary>
internal sealed class CommandReader : IValueTaskSource<CommandResult>
{
    /// <summary>Two lines: a whole one behind the tail of the one before.</summary>
    private const int BufferSize = NoticeFormat.MaxLineLength * 2;

    private readonly Socket _control;
    private readonly UdpAssociation _association;
    private readonly NoticeWriter _writer;
    private readonly CommandSettings _settings;
    private readonly CachingResolver _resolver;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IPEndPoint _peer;
    private readonly byte[] _answer = new byte[NoticeFormat.MaxLineLength];
    private readonly byte[] _scratch = new byte[ClientCommandParser.ScratchLength];
    private readonly byte[] _echo = new byte[NoticeFormat.MaxEndpointLength];
    private ControlLineFramer _framer;
    private TokenBucket _budget;
    private readonly byte[] _destination = new byte[SocksAddressCodec.MaxDomainNameLength];
    private ManualResetValueTaskSourceCore<CommandResult> _completion;
    private int _answerLength;

    // The command being carried out, copied out of its line (a line cannot live across an await).
    private ClientCommandVerb _verb;
    private ushort _mapping;
    private int _ttl;
    private int _echoLength;
    private AddressType _destinationType;
    private int _destinationLength;
    private ushort _destinationPort;
    private DestinationKey _key;
    private string? _name;

    public CommandReader(
        Socket control, UdpAssociation association, NoticeWriter writer, CommandSettings settings, CachingResolver resolver, RelayMetrics metrics,
        TimeProvider time, ILogger logger, IPEndPoint peer)
    {
        _control = control;
        _association = association;
        _writer = writer;
        _settings = settings;
        _resolver = resolver;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _peer = peer;
        _budget = new TokenBucket(settings.PerSecond, settings.Burst, time.GetTimestamp(), time.TimestampFrequency);
        _completion.RunContinuationsAsynchronously = true;
    }

    /// <summary>Reads commands until the control connection ends, then ends the association.</summary>
    public async Task RunAsync()
    {
        byte[]? buffer = null;
        int have = 0;
        try
        {
            while (true)
            {
                // Waits without a buffer: an idle association holds none.
                await _control.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                int received = _control.Receive(buffer.AsSpan(have, BufferSize - have), SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    continue;
                }

                if (error != SocketError.Success)
                {
                    _association.End(AssociationEnd.ClientReset);
                    return;
                }

                if (received == 0)
                {
                    _association.End(AssociationEnd.ClientClosed);
                    return;
                }

                have += received;
                int offset = 0;
                while (true)
                {
                    var step = Take(buffer.AsSpan(offset, have - offset), out int consumed);
                    offset += consumed;
                    if (step == Step.NeedMore)
                    {
                        break;
                    }

                    if (step == Step.Execute)
                    {
                        await ExecuteAsync().ConfigureAwait(false);
                    }

                    await _writer.WriteAnswerAsync(_answer.AsSpan(0, _answerLength)).ConfigureAwait(false);
                }

                buffer.AsSpan(offset, have - offset).CopyTo(buffer);
                have -= offset;
                if (have == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (SocketException)
        {
            _association.End(AssociationEnd.ClientReset);
        }
        catch (ObjectDisposedException)
        {
            _association.End(AssociationEnd.ClientClosed);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private enum Step
    {
        NeedMore,

        /// <summary>The answer is written already (a refusal).</summary>
        Answer,

        /// <summary>A valid command waits to be carried out.</summary>
        Execute,
    }

    /// <summary>Frames and parses the next line, copying what the command needs; a refusal is answered here and now.</summary>
    private Step Take(ReadOnlySpan<byte> buffered, out int consumed)
    {
        var status = _framer.TryReadLine(buffered, out var line, out consumed);
        if (status == OperationStatus.NeedMoreData)
        {
            return Step.NeedMore;
        }

        if (status == OperationStatus.InvalidData)
        {
            Answer(CommandAnswerWriter.Malformed(_answer), "malformed");
            return Step.Answer;
        }

        var parsed = ClientCommandParser.Parse(line, _settings.Offered, _scratch, out var command);
        if (parsed != ClientCommandStatus.Valid)
        {
            Answer(CommandAnswerWriter.Refusal(_answer, parsed, command), parsed == ClientCommandStatus.UnknownVerb ? "unknown" : CommandFailureReasons.Invalid, command.Verb);
            return Step.Answer;
        }

        if (!_budget.TryTake(_time.GetTimestamp()))
        {
            Answer(CommandAnswerWriter.Failed(_answer, command, CommandFailureReason.RateLimit), CommandFailureReasons.RateLimit, command.Verb);
            return Step.Answer;
        }

        _verb = command.Verb;
        _mapping = command.Mapping;
        _ttl = command.Ttl;
        _echoLength = Math.Min(command.DestinationText.Length, _echo.Length);
        command.DestinationText[.._echoLength].CopyTo(_echo);
        if (_verb == ClientCommandVerb.Unmap)
        {
            _echoLength = Math.Min(command.MappingText.Length, _echo.Length);
            command.MappingText[.._echoLength].CopyTo(_echo);
        }

        _name = null;
        if (_verb == ClientCommandVerb.Set)
        {
            var destination = command.Destination;
            _destinationType = destination.Type;
            _destinationPort = destination.Port;
            _destinationLength = destination.AddressBytes.Length;
            destination.AddressBytes.CopyTo(_destination);
            if (destination.Type == AddressType.DomainName)
            {
                _name = destination.GetHostName();
            }
            else
            {
                _key = DestinationKey.From(destination);
            }
        }

        return Step.Execute;
    }

    /// <summary>Carries out the command taken last and writes its answer into <see cref="_answer"/>.</summary>
    private async ValueTask ExecuteAsync()
    {
        IPAddress? resolved = null;
        if (_name is not null)
        {
            var (address, failure) = await _resolver.ResolveAsync(_name, CancellationToken.None).ConfigureAwait(false);
            if (address is null)
            {
                Answer(CommandAnswerWriter.SetFailed(_answer, _echo.AsSpan(0, _echoLength), CommandFailureReason.Unresolved),
                    failure == ResolveFailure.Busy ? "busy" : CommandFailureReasons.Unresolved, ClientCommandVerb.Set);
                return;
            }

            resolved = address;
            _key = DestinationKey.From(address, _destinationPort);
        }

        // On the association's loop, where everything it does happens; the answer is written once the command is in force.
        _completion.Reset();
        _association.Loop.Post(static s => ((CommandReader)s!).RunOnLoop(), this);
        var result = await new ValueTask<CommandResult>(this, _completion.Version).ConfigureAwait(false);
        var echo = _echo.AsSpan(0, _echoLength);
        int length = (_verb, result.Done) switch
        {
            (ClientCommandVerb.Set, true) => CommandAnswerWriter.SetOk(_answer, echo, resolved, _key.Port, _ttl, _mapping),
            (ClientCommandVerb.Set, false) => CommandAnswerWriter.SetFailed(_answer, echo, result.Reason),
            (ClientCommandVerb.Map, true) => CommandAnswerWriter.MapOk(_answer, result.Mapping, (ushort)result.Port),
            (ClientCommandVerb.Map, false) => CommandAnswerWriter.MapFailed(_answer, result.Reason),
            (ClientCommandVerb.Unmap, true) => CommandAnswerWriter.UnmapOk(_answer, result.Mapping),
            _ => CommandAnswerWriter.UnmapFailed(_answer, echo, result.Reason),
        };
        Answer(length, result.Done ? "ok" : result.Reason.ToWireName(), _verb);
    }

    private void RunOnLoop()
    {
        CommandResult result;
        try
        {
            var commands = _association.Commands;
            result = _verb switch
            {
                ClientCommandVerb.Set => commands.Set(_mapping, _key, _name, AddressedAs(), _ttl),
                ClientCommandVerb.Map => commands.Map(),
                _ => commands.Unmap(_mapping),
            };
        }
        catch (Exception e)
        {
            _completion.SetException(e);
            return;
        }

        _completion.SetResult(result);
    }

    /// <summary>The destination as the client named it (for a refusal's notice).</summary>
    private SocksAddress AddressedAs() => new(_destinationType, _destination.AsSpan(0, _destinationLength), _destinationPort);

    private void Answer(int length, string outcome, ClientCommandVerb verb = ClientCommandVerb.Unknown)
    {
        _answerLength = length;
        string name = verb switch
        {
            ClientCommandVerb.Set => "set",
            ClientCommandVerb.Map => "map",
            ClientCommandVerb.Unmap => "unmap",
            _ => "other",
        };
        _metrics.RecordCommand(name, outcome);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.CommandAnswered(_logger, _peer, System.Text.Encoding.ASCII.GetString(_answer, 0, Math.Max(0, length - 1)));
        }
    }

    CommandResult IValueTaskSource<CommandResult>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<CommandResult>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<CommandResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _completion.OnCompleted(continuation, state, token, flags);
}
