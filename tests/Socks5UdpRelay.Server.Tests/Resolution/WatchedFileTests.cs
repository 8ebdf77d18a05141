using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>A watched file is re-read when it changes, looked at no more than once a second.</summary>
public sealed class WatchedFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"s5t-watched-{Guid.NewGuid():N}");
    private readonly ManualTimeProvider _time = new();
    private int _reads;

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Change_SeenAfterASecond_NotBefore()
    {
        Write("first", DateTime.UtcNow.AddMinutes(-1));
        var file = Watch();
        Assert.Equal("first", file.Current);

        Write("second", DateTime.UtcNow);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal("first", file.Current);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("second", file.Current);
        Assert.Equal(2, _reads);
    }

    [Fact]
    public void Unchanged_NotReadAgain()
    {
        Write("same", DateTime.UtcNow.AddMinutes(-1));
        var file = Watch();

        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal("same", file.Current);
        }

        Assert.Equal(1, _reads);
    }

    [Fact]
    public void SameTimeNewSize_IsAChange()
    {
        var stamp = DateTime.UtcNow.AddMinutes(-1);
        Write("short", stamp);
        var file = Watch();

        Write("longer text", stamp);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("longer text", file.Current);
    }

    [Fact]
    public void Missing_ParsesAsNoText_ThenAppears()
    {
        var file = Watch();
        Assert.Equal("<none>", file.Current);

        Write("now here", DateTime.UtcNow);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("now here", file.Current);

        File.Delete(_path);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("<none>", file.Current);
    }

    [Fact]
    public void Loaded_HearsOfTheFirstReadAndEachChange()
    {
        var heard = new List<string>();
        Write("one", DateTime.UtcNow.AddMinutes(-1));
        var file = new WatchedFile<string>(_path, t => t ?? "<none>", _time, heard.Add);

        _time.Advance(TimeSpan.FromSeconds(1));
        _ = file.Current;
        Write("two", DateTime.UtcNow);
        _time.Advance(TimeSpan.FromSeconds(1));
        _ = file.Current;

        Assert.Equal(["one", "two"], heard);
    }

    private WatchedFile<string> Watch() => new(_path, text =>
    {
        _reads++;
        return text ?? "<none>";
    }, _time);

    private void Write(string text, DateTime modified)
    {
        File.WriteAllText(_path, text);
        File.SetLastWriteTimeUtc(_path, modified);
    }
}
