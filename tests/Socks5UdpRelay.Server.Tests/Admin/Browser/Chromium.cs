using System.Diagnostics;
using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Admin.Browser;

/// <summary>
/// Debian's Chromium, headless, unmodified, with a fresh profile, its DevTools endpoint on a
/// loopback port of its own choosing, and nothing it may reach but loopback: no background
/// networking, no component updates, no QUIC, and every host but 127.0.0.1 mapped to nowhere.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string Path = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;

    private Chromium(Process process, string profile, int port)
    {
        _process = process;
        _profile = profile;
        DevToolsPort = port;
    }

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public static string? Missing => File.Exists(Path) ? null : $"{Path} is not installed (apt-get install chromium)";

    public int DevToolsPort { get; }

    public static async Task<Chromium> StartAsync(int width = 1280, int height = 800)
    {
        if (Missing is { } missing)
        {
            throw new InvalidOperationException($"The browser test cannot run: {missing}.");
        }

        string profile = Directory.CreateTempSubdirectory("s5-chromium-").FullName;
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", // every other host (IP literals too) goes nowhere
            $"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            $"--window-size={width},{height}", "about:blank",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new Chromium(process, profile, await ReadPortAsync(process, profile));
        return browser;
    }

    /// <summary>A DevTools connection to the browser's first page.</summary>
    public async Task<CdpPage> OpenPageAsync()
    {
        using var http = new HttpClient { Timeout = TestTimeout.Default };
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (true)
        {
            var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{DevToolsPort}/json/list", cts.Token)).RootElement;
            var page = targets.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page");
            if (page.ValueKind == JsonValueKind.Object)
            {
                return await CdpPage.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!));
            }

            await Task.Delay(50, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // a child still writing as it died: the temporary folder goes with the next cleanup
        }
    }

    /// <summary>The port Chromium chose, from the DevToolsActivePort file it writes into its profile.</summary>
    private static async Task<int> ReadPortAsync(Process process, string profile)
    {
        string file = System.IO.Path.Combine(profile, "DevToolsActivePort");
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"chromium exited ({process.ExitCode}) before opening its DevTools port");
            }

            if (File.Exists(file) && (await File.ReadAllLinesAsync(file, cts.Token)) is [var first, ..] && int.TryParse(first, out int port) && port > 0)
            {
                return port;
            }

            await Task.Delay(20, cts.Token);
        }
    }
}
