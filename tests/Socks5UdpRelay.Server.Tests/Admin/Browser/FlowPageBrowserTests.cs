using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Admin.Browser;

/// <summary>
/// The flow view's page in a real browser (Debian's Chromium, headless, driven over DevTools),
/// against the real server, every byte on loopback: an association appears, a closed port's
/// <c>port-unreachable</c> marks its destination, the End button ends it and its client reads
/// <c>CLOSING reason=admin</c>. Leaves a screenshot in the test output folder.
/// </summary>
public sealed class FlowPageBrowserTests(ITestOutputHelper output)
{
    /// <summary>Where the screenshot lands (beside the test assembly), kept as the run's artefact.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "artifacts", "flow-view.png");

    [ChromiumFact]
    public async Task Page_ShowsAnAssociation_MarksItsPortUnreachable_AndEndsIt()
    {
        // The default interval (1 s): the times below are what an operator sees.
        await using var view = await FlowViewServer.StartAsync(new Dictionary<string, string?> { ["Admin:StreamInterval"] = "00:00:01" });
        await using var browser = await Chromium.StartAsync();
        await using var page = await browser.OpenPageAsync();
        await page.NavigateAsync($"http://{view.Http}/#token={FlowViewServer.Token}");
        await page.WaitForAsync("body[data-state=\"live\"]");
        Assert.Equal("", (await page.EvaluateAsync("location.hash")).GetString()); // the token left the address bar

        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var bystander = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await bystander.SendToAsync(echo.EndPoint, "hello"u8.ToArray());
        await bystander.ReceiveAsync();
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        for (int i = 0; i < 3; i++)
        {
            await association.SendToAsync(echo.EndPoint, "ping"u8.ToArray());
            await association.ReceiveAsync();
        }

        long id = (await view.AssociationsAsync()).Single(a => a.GetProperty("relay").GetString() == association.Relay.ToString()).GetProperty("id").GetInt64();
        string section = $"section[data-association-id=\"{id}\"]";
        await page.WaitForAsync(section);
        await page.WaitForAsync($"{section} tr[data-destination=\"{echo.EndPoint}\"]");

        // A kernel error → its mark on the page, timed from the send (the ICMP error comes back at once
        // on loopback), and from the tick that carried it (its snapshot's time) to the mark.
        var delays = new List<(long Total, long FromTick)>();
        for (int i = 0; i < 3; i++)
        {
            var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
            var marked = page.WaitForAsync($"{section} tr[data-destination=\"{closed}\"] .mark[data-kind=\"port-unreachable\"]", present: true, "document.getElementById('summary').dataset.at");
            long sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await association.SendToAsync(closed, "x"u8.ToArray());
            Assert.StartsWith($"UDP-ERROR dst={closed} error=port-unreachable", await association.Control.ReadLineAsync());
            var (at, tick) = await marked;
            delays.Add((at - sent, at - DateTimeOffset.Parse(tick.GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()));
        }

        output.WriteLine($"kernel error → mark on the page (Admin:StreamInterval 1 s): {string.Join(", ", delays.Select(d => $"{d.Total} ms (tick → mark {d.FromTick} ms)"))}");
        Assert.All(delays, d => Assert.InRange(d.Total, 0, TestTimeout.Default.TotalMilliseconds));

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        await File.WriteAllBytesAsync(ScreenshotPath, await page.ScreenshotAsync());
        output.WriteLine($"screenshot: {ScreenshotPath}");

        await page.ClickAsync($"{section} button[data-end]");
        Assert.Equal("CLOSING reason=admin", await association.Control.ReadLineAsync());
        Assert.Contains(page.Dialogs, d => d.StartsWith($"End association #{id}?", StringComparison.Ordinal));
        await page.WaitForAsync(section, present: false);
        await page.WaitForAsync($"section[data-association-id]"); // the bystander stays
        Assert.Equal(1, view.Server.Endpoints.OpenAssociations);
    }

    [ChromiumFact]
    public async Task Page_WithAWrongToken_AsksForOne_AndShowsNothing()
    {
        await using var view = await FlowViewServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(view.Server.EndPoint);
        await using var browser = await Chromium.StartAsync();
        await using var page = await browser.OpenPageAsync();
        await page.NavigateAsync($"http://{view.Http}/#token=not-the-token-0123456789");
        await page.WaitForAsync("body[data-state=\"login\"]");
        Assert.Equal("the server refused this token", (await page.EvaluateAsync("document.getElementById('login-error').textContent")).GetString());
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('section[data-association-id]').length")).GetInt32());
    }
}
