using System.Net;
using Socks5UdpRelay.Client.Tests.Fakes;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>SET and the command machinery: answers routed to their commands in order, notices apart, failures typed.</summary>
public sealed class CommandTests
{
    private const OfferedCommands All = OfferedCommands.Set | OfferedCommands.Map;

    [Fact]
    public async Task Greeting_TellsWhichCommandsTheProxyOffers()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        Assert.Equal(All, await association.SupportedCommands.Within());
        Assert.True(await association.NoticesSupported.Within());
        var greeting = await association.Notices.ReadAsync(TestTimeout.Token).Within();
        Assert.Equal("NOTICES version=1 commands=set,map", greeting.Line);
        Assert.Equal(All, greeting.Commands);
    }

    [Fact]
    public async Task SetTtl_IP_CompletesOnSetOk_WithTheSettingInForce()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var destination = new IPEndPoint(IPAddress.Loopback, 33434);

        var answer = await association.SetTtlAsync(destination, 5, cancellationToken: TestTimeout.Token).Within();

        Assert.True(answer.Succeeded);
        Assert.Equal("SET-OK dst=127.0.0.1:33434 ttl=5", answer.Line);
        Assert.Equal(5, answer.Ttl);
        Assert.Null(answer.Address);
        Assert.Equal(["SET dst=127.0.0.1:33434 ttl=5"], session.CommandLines);
        Assert.Equal([new FakeSetting(0, destination, 5)], session.Settings);
    }

    [Fact]
    public async Task SetTtl_NameAndDefault_AnswerNamesTheResolvedAddress()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = OfferedCommands.Set };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();

        var answer = await association.SetTtlAsync("localhost", 53, null, cancellationToken: TestTimeout.Token).Within();

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 53), answer.Address);
        Assert.Equal("localhost:53", answer.Destination);
        Assert.Equal(ClientCommand.DefaultTtl, answer.Ttl);
        Assert.Equal(["SET dst=localhost:53 ttl=default"], session.CommandLines);
    }

    [Theory]
    [InlineData("denied", CommandFailureReason.Policy, "policy")]
    [InlineData("unresolvable", CommandFailureReason.Unresolved, "unresolved")]
    [InlineData("rate-limited", CommandFailureReason.RateLimit, "rate-limit")]
    public async Task SetFailed_ThrowsTypedException_AndTheAssociationGoesOn(string setup, CommandFailureReason reason, string reasonText)
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback)
        {
            Commands = All,
            DeniedPorts = setup == "denied" ? [53] : [],
            RateLimited = setup == "rate-limited",
        };
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        string host = setup == "unresolvable" ? "nowhere.test" : "127.0.0.1";

        var e = await Assert.ThrowsAsync<Socks5CommandException>(() => association.SetTtlAsync(host, 53, 9, cancellationToken: TestTimeout.Token).Within());

        Assert.Equal(CommandVerbs.Set, e.Command);
        Assert.Equal(reason, e.Reason);
        Assert.Equal(reasonText, e.ReasonText);
        Assert.Equal($"SET-FAILED dst={host}:53 reason={reasonText}", e.Answer.Line);
        await association.SendAsync(echo.EndPoint, "still relayed"u8.ToArray(), TestTimeout.Token).Within();
        Assert.Equal(13, (await association.ReceiveAsync(new byte[100], TestTimeout.Token).Within()).Length);
    }

    [Fact]
    public async Task Answers_GoToTheirCommandsInOrder_NoticesInterleavedGoToNotices()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        Assert.Equal(NoticeVerbs.Notices, (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);

        var first = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token);
        Assert.Equal("SET dst=127.0.0.1:1 ttl=1", await session.NextCommandAsync());
        var second = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 2), 2, cancellationToken: TestTimeout.Token);
        Assert.Equal("SET dst=127.0.0.1:2 ttl=2", await session.NextCommandAsync());
        var third = association.MapAsync(TestTimeout.Token);
        Assert.Equal("MAP", await session.NextCommandAsync());
        // Answers and notices mixed, cut at awkward places, one byte at a time for the middle part.
        string stream =
            "UDP-ERROR dst=127.0.0.1:9 error=port-unreachable errno=ECONNREFUSED\n"
            + "SET-OK dst=127.0.0.1:1 ttl=1\n"
            + "DST-CLOSED dst=127.0.0.1:7 reason=idle\n"
            + "SET-FAILED dst=127.0.0.1:2 reason=limit\n"
            + "UDP-DENIED dst=10.0.0.1:53 reason=policy\n"
            + "MAP-OK map=1 port=40000\n";
        foreach (char c in stream)
        {
            await session.WriteAsync(c.ToString());
        }

        Assert.Equal("SET-OK dst=127.0.0.1:1 ttl=1", (await first.Within()).Line);
        var failed = await Assert.ThrowsAsync<Socks5CommandException>(() => second.Within());
        Assert.Equal(CommandFailureReason.Limit, failed.Reason);
        // Not disposed: nobody would answer its UNMAP here.
        var mapping = await third.Within();
        Assert.Equal(1, mapping.Number);
        Assert.Equal(40000, mapping.OutboundPort);
        string[] notices =
        [
            (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb,
            (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb,
            (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb,
        ];
        Assert.Equal([NoticeVerbs.UdpError, NoticeVerbs.DestinationClosed, NoticeVerbs.UdpDenied], notices);
        Assert.False(association.Notices.TryRead(out _));
    }

    [Fact]
    public async Task ManyConcurrentCommands_EachGetsItsOwnAnswer_WithANoticeBeforeEach()
    {
        const int Commands = 40;
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, NoticesBeforeEachAnswer = ["UDP-DENIED dst=10.0.0.1:53 reason=policy"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        var calls = Enumerable.Range(1, Commands)
            .Select(i => Task.Run(() => association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, i), i, cancellationToken: TestTimeout.Token)))
            .ToArray();
        var answers = await Task.WhenAll(calls).Within();

        for (int i = 0; i < Commands; i++)
        {
            Assert.Equal($"SET-OK dst=127.0.0.1:{i + 1} ttl={i + 1}", answers[i].Line);
        }

        int notices = 0;
        while (association.Notices.TryRead(out var notice))
        {
            notices += notice.Verb == NoticeVerbs.UdpDenied ? 1 : 0;
        }

        Assert.Equal(Commands, notices);
    }

    [Fact]
    public async Task CommandsInFlight_AreBounded_TheRestWaitForAnAnswer()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        // With the greeting in, each call reaches the line writer before returning: they queue in call order.
        await association.SupportedCommands.Within();

        var calls = Enumerable.Range(1, CommandChannel.MaxInFlight + 4)
            .Select(i => association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, i), 1, cancellationToken: TestTimeout.Token))
            .ToArray();
        var written = new List<string>();
        for (int i = 0; i < CommandChannel.MaxInFlight; i++)
        {
            written.Add(await session.NextCommandAsync());
        }

        await session.WriteAsync($"{written[0].Replace("SET ", "SET-OK ", StringComparison.Ordinal)}\n");
        written.Add(await session.NextCommandAsync());

        // One answer made room for exactly one more line; nothing else can have been written yet.
        Assert.Equal(CommandChannel.MaxInFlight + 1, session.CommandLines.Count);
        Assert.Equal($"SET dst=127.0.0.1:{CommandChannel.MaxInFlight + 1} ttl=1", written[^1]);
        Assert.Equal("SET-OK dst=127.0.0.1:1 ttl=1", (await calls[0].Within()).Line);
        foreach (string line in written.Skip(1))
        {
            await session.WriteAsync($"{line.Replace("SET ", "SET-OK ", StringComparison.Ordinal)}\n");
        }

        for (int i = 0; i < 3; i++)
        {
            string line = await session.NextCommandAsync();
            await session.WriteAsync($"{line.Replace("SET ", "SET-OK ", StringComparison.Ordinal)}\n");
        }

        var answers = await Task.WhenAll(calls).Within();
        Assert.Equal(Enumerable.Range(1, calls.Length).Select(i => $"SET-OK dst=127.0.0.1:{i} ttl=1"), answers.Select(a => a.Line));
    }

    [Fact]
    public async Task ServerWithoutCommandsKey_SetTtlAndMap_FailFast()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { NoticeLines = ["NOTICES version=1"] };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        var set = await Assert.ThrowsAsync<NotSupportedException>(() => association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token).Within());
        var map = await Assert.ThrowsAsync<NotSupportedException>(() => association.MapAsync(TestTimeout.Token).Within());

        Assert.Contains("does not offer SET", set.Message, StringComparison.Ordinal);
        Assert.Contains("does not offer MAP", map.Message, StringComparison.Ordinal);
        Assert.Equal(OfferedCommands.None, await association.SupportedCommands.Within());
    }

    [Fact]
    public async Task ServerOfferingOnlySet_MapFailsFast_SetWorks()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = OfferedCommands.Set };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();

        await Assert.ThrowsAsync<NotSupportedException>(() => association.MapAsync(TestTimeout.Token).Within());
        Assert.True((await association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token).Within()).Succeeded);
    }

    [Fact]
    public async Task ServerThatSendsNoGreeting_SetTtlFails_AfterTheHandshakeTimeout()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback);
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(handshakeTimeout: TimeSpan.FromMilliseconds(200)), TestTimeout.Token).Within();

        var e = await Assert.ThrowsAsync<NotSupportedException>(() => association.SetTtlAsync("localhost", 1, 1, cancellationToken: TestTimeout.Token).Within());

        Assert.Contains("no NOTICES greeting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionEndsWithACommandPending_ThrowsAssociationClosed_AndLaterCommandsToo()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var pending = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token);
        await session.NextCommandAsync();

        session.Close();

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => pending.Within());
        Assert.Equal(Socks5ErrorKind.AssociationClosed, e.Kind);
        await association.Closed.Within();
        var later = await Assert.ThrowsAsync<Socks5Exception>(() => association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token).Within());
        Assert.Equal(Socks5ErrorKind.AssociationClosed, later.Kind);
    }

    [Fact]
    public async Task DisposeWithACommandPending_ThrowsObjectDisposed()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var pending = association.MapAsync(TestTimeout.Token);
        await session.NextCommandAsync();

        await association.DisposeAsync().Within();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.Within());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => association.MapAsync(TestTimeout.Token).Within());
    }

    [Fact]
    public async Task AnswerForAnotherVerb_IsAProtocolError_AndTheOrderGoesOn()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var first = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token);
        await session.NextCommandAsync();
        var second = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 2), 2, cancellationToken: TestTimeout.Token);
        await session.NextCommandAsync();

        await session.WriteAsync("UNMAP-OK map=1\nSET-OK dst=127.0.0.1:2 ttl=2\n");

        var e = await Assert.ThrowsAsync<Socks5Exception>(() => first.Within());
        Assert.Equal(Socks5ErrorKind.ProtocolError, e.Kind);
        Assert.Equal("SET-OK dst=127.0.0.1:2 ttl=2", (await second.Within()).Line);
    }

    [Theory]
    [InlineData("COMMAND-FAILED reason=malformed", CommandFailureReason.Malformed)]
    [InlineData("COMMAND-FAILED verb=SET reason=unknown", CommandFailureReason.Unknown)]
    [InlineData("SET-FAILED dst=127.0.0.1:1 reason=invalid", CommandFailureReason.Invalid)]
    [InlineData("SET-FAILED dst=127.0.0.1:1 reason=solar-flare", CommandFailureReason.Other)]
    public async Task EveryFailureAnswer_IsATypedException(string answer, CommandFailureReason reason)
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var pending = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: TestTimeout.Token);
        await session.NextCommandAsync();

        await session.WriteAsync(answer + "\n");

        var e = await Assert.ThrowsAsync<Socks5CommandException>(() => pending.Within());
        Assert.Equal(CommandVerbs.Set, e.Command);
        Assert.Equal(reason, e.Reason);
        Assert.Equal(answer, e.Answer.Line);
        Assert.Contains(answer, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnswerWithNoCommandPending_IsDeliveredAsANotice()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        await association.Notices.ReadAsync(TestTimeout.Token).Within();

        await session.WriteAsync("SET-OK dst=127.0.0.1:1 ttl=1\n");

        Assert.Equal("SET-OK", (await association.Notices.ReadAsync(TestTimeout.Token).Within()).Verb);
    }

    [Fact]
    public async Task CancelledCommand_ThrowsCanceled_AndItsLateAnswerIsNotTakenForTheNext()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All, ManualAnswers = true };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        using var cancel = new CancellationTokenSource();
        var cancelled = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 1), 1, cancellationToken: cancel.Token);
        await session.NextCommandAsync();

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Within());
        var next = association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 2), 2, cancellationToken: TestTimeout.Token);
        await session.NextCommandAsync();
        await session.WriteAsync("SET-FAILED dst=127.0.0.1:1 reason=policy\nSET-OK dst=127.0.0.1:2 ttl=2\n");

        Assert.Equal("SET-OK dst=127.0.0.1:2 ttl=2", (await next.Within()).Line);
    }

    [Fact]
    public async Task BadArguments_ThrowBeforeAnythingIsWritten()
    {
        await using var server = new FakeSocks5Server(IPAddress.Loopback) { Commands = All };
        await using var association = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        var session = await server.NextSessionAsync();
        var somewhere = new IPEndPoint(IPAddress.Loopback, 1);
        await using var other = await Socks5UdpAssociation.OpenAsync(server.Options(), TestTimeout.Token).Within();
        await using var foreignMapping = await other.MapAsync(TestTimeout.Token).Within();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => association.SetTtlAsync(somewhere, 0, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => association.SetTtlAsync(somewhere, 256, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentException>(() => association.SetTtlAsync(new string('a', 256), 1, 1, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentException>(() => association.SetTtlAsync("bücher.example", 1, 1, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => association.SetTtlAsync("localhost", 65_536, 1, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => association.SetTtlAsync(new IPEndPoint(IPAddress.Loopback, 0), 1, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<ArgumentException>(() => association.SetTtlAsync(somewhere, 1, foreignMapping, TestTimeout.Token).Within());
        await association.SetTtlAsync(somewhere, 1, cancellationToken: TestTimeout.Token).Within();

        Assert.Equal(["SET dst=127.0.0.1:1 ttl=1"], session.CommandLines);
    }
}
