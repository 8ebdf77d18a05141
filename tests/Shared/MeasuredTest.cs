namespace Socks5UdpRelay.Tests.Shared;

/// <summary>A test class whose every test holds <see cref="MeasuredLock"/> while it runs.</summary>
public abstract class MeasuredTest : IAsyncLifetime
{
    private IDisposable? _held;

    public async Task InitializeAsync() => _held = await MeasuredLock.AcquireAsync();

    public Task DisposeAsync()
    {
        _held?.Dispose();
        return Task.CompletedTask;
    }
}
