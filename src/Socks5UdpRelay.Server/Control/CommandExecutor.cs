using System.Buffers;
using System.Net;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Server.Control;

/// <summary>Which commands clients may send, and how fast (README, "Client commands").</summary>
internal sealed record CommandSettings(OfferedCommands Offered, int PerSecond, int Burst);

/// <summary>What <see cref="CommandExecutor.Take"/> left to do for a line.</summary>
internal enum CommandStep
{
    /// <summary>The answer is written already (a refusal).</summary>
    Answer,

    /// <summary>A valid command waits for <see cref="CommandExecutor.ExecuteAsync"/>.</summary>
    Execute,
}

/// <summary>
/// Carries out one association's command lines (README, "Client commands"), one at a time,
/// wherever they came from (the control connection's lines, or control frames over UDP over
/// TCP): parses each without allocating, carries it out on the association's loop, and leaves
/// its one answer in <see cref="Answer"/> for the caller to write.
/// </summary>
internal sealed class CommandExecutor : IValueTaskSource<CommandResult>
{
    private readonly UdpAssociation _association;
    private readonly CommandSettings _settings;
    private readonly CachingResolver _resolver;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IPEndPoint _peer;
    private readonly byte[] _answer = new byte[NoticeFormat.MaxLineLength];
    private readonly byte[] _scratch = new byte[ClientCommandParser.ScratchLength];
    private readonly byte[] _echo = new byte[NoticeFormat.MaxEndpointLength];
    private readonly byte[] _destination = new byte[SocksAddressCodec.MaxDomainNameLength];
    private TokenBucket _budget;
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

    public CommandExecutor(
        UdpAssociation association, CommandSettings settings, CachingResolver resolver, RelayMetrics metrics, TimeProvider time, ILogger logger, IPEndPoint peer)
    {
        _association = association;
        _settings = settings;
        _resolver = resolver;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _peer = peer;
        _budget = new TokenBucket(settings.PerSecond, settings.Burst, time.GetTimestamp(), time.TimestampFrequency);
        _completion.RunContinuationsAsynchronously = true;
    }

    /// <summary>The answer to the last line, its <c>\n</c> included; valid until the next line is taken.</summary>
    public ReadOnlySpan<byte> Answer => _answer.AsSpan(0, _answerLength);

    /// <summary>Answers a line that could not be framed (too long, or not one line).</summary>
    public void Malformed() => SetAnswer(CommandAnswerWriter.Malformed(_answer), "malformed");

    /// <summary>
    /// Parses <paramref name="line"/> (one whole line, its <c>\n</c> included), copying what the
    /// command needs; a refusal is answered here and now.
    /// </summary>
    public CommandStep Take(ReadOnlySpan<byte> line)
    {
        var parsed = ClientCommandParser.Parse(line, _settings.Offered, _scratch, out var command);
        if (parsed != ClientCommandStatus.Valid)
        {
            SetAnswer(CommandAnswerWriter.Refusal(_answer, parsed, command), parsed == ClientCommandStatus.UnknownVerb ? "unknown" : CommandFailureReasons.Invalid, command.Verb);
            return CommandStep.Answer;
        }

        if (!_budget.TryTake(_time.GetTimestamp()))
        {
            SetAnswer(CommandAnswerWriter.Failed(_answer, command, CommandFailureReason.RateLimit), CommandFailureReasons.RateLimit, command.Verb);
            return CommandStep.Answer;
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

        return CommandStep.Execute;
    }

    /// <summary>Carries out the command taken last and writes its answer into <see cref="_answer"/>.</summary>
    public async ValueTask ExecuteAsync()
    {
        IPAddress? resolved = null;
        if (_name is not null)
        {
            var (address, failure) = await _resolver.ResolveAsync(_name, CancellationToken.None).ConfigureAwait(false);
            if (address is null)
            {
                SetAnswer(CommandAnswerWriter.SetFailed(_answer, _echo.AsSpan(0, _echoLength), CommandFailureReason.Unresolved),
                    failure == ResolveFailure.Busy ? "busy" : CommandFailureReasons.Unresolved, ClientCommandVerb.Set);
                return;
            }

            resolved = address;
            _key = DestinationKey.From(address, _destinationPort);
        }

        // On the association's loop, where everything it does happens; the answer is written once the command is in force.
        _completion.Reset();
        _association.Loop.Post(static s => ((CommandExecutor)s!).RunOnLoop(), this);
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
        SetAnswer(length, result.Done ? "ok" : result.Reason.ToWireName(), _verb);
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

    private void SetAnswer(int length, string outcome, ClientCommandVerb verb = ClientCommandVerb.Unknown)
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
