using System.Net;
using System.Text;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Client.Tests;

/// <summary>The library against a standard SOCKS5 server that sends no notices.</summary>
public sealed class DanteTests
{
    [RequiresDanteFact]
    public async Task Dante_UdpEchoRoundTrip()
    {
        await using var dante = await DanteProcess.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var options = new Socks5ProxyOptions { Host = "127.0.0.1", Port = dante.EndPoint.Port, ConnectTimeout = TestTimeout.Default, HandshakeTimeout = TestTimeout.Default };
        var buffer = new byte[100];

        await using var association = await Socks5UdpAssociation.OpenAsync(options, TestTimeout.Token).Within();
        await association.SendAsync(echo.EndPoint, "through dante"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.True("through dante" == Encoding.ASCII.GetString(buffer, 0, result.Length), dante.Log);
        Assert.Equal(new Socks5Endpoint(IPAddress.Loopback, echo.EndPoint.Port), result.Source);
        Assert.Equal(IPAddress.Loopback, association.RelayEndPoint.Address);
        Assert.False(association.NoticesSupported.IsCompleted);
    }

    [RequiresDanteFact]
    public async Task Dante_SendsNoGreeting_SetTtlAndMapFailClearly_DatagramsStillFlow()
    {
        await using var dante = await DanteProcess.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var options = new Socks5ProxyOptions
        {
            Host = "127.0.0.1",
            Port = dante.EndPoint.Port,
            ConnectTimeout = TestTimeout.Default,
            // Also how long a command waits for a greeting that Dante never sends.
            HandshakeTimeout = TimeSpan.FromSeconds(2),
        };
        var buffer = new byte[100];

        await using var association = await Socks5UdpAssociation.OpenAsync(options, TestTimeout.Token).Within();
        var set = await Assert.ThrowsAsync<NotSupportedException>(() => association.SetTtlAsync(echo.EndPoint, 1, cancellationToken: TestTimeout.Token).Within());
        await Assert.ThrowsAsync<NotSupportedException>(() => association.MapAsync(TestTimeout.Token).Within());
        await association.SendAsync(echo.EndPoint, "after"u8.ToArray(), TestTimeout.Token).Within();
        var result = await association.ReceiveAsync(buffer, TestTimeout.Token).Within();

        Assert.Contains("no NOTICES greeting", set.Message, StringComparison.Ordinal);
        Assert.True("after" == Encoding.ASCII.GetString(buffer, 0, result.Length), dante.Log);
        Assert.False(association.SupportedCommands.IsCompleted);
    }
}
