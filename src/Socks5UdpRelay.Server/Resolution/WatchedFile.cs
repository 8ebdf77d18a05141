namespace Socks5UdpRelay.Server.Resolution;

/// <summary>
/// A small configuration file kept parsed in memory and re-read when it changes, as glibc
/// (2.26 and later) re-reads <c>/etc/resolv.conf</c> and reads <c>/etc/hosts</c> afresh: its
/// modification time and size are looked at, at most once a second, by whichever lookup comes
/// first; the others meanwhile use the table they have. A missing or unreadable file parses as
/// null text (the defaults).
/// </summary>
internal sealed class WatchedFile<T>
    where T : class
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly Func<string?, T> _parse;
    private readonly Action<T>? _loaded;
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly Lock _gate = new();
    private volatile T _value;
    private (bool Exists, DateTime Modified, long Length) _stamp;
    private long _nextCheck;

    /// <summary>Reads <paramref name="path"/> now; <paramref name="loaded"/> hears of this and every later change.</summary>
    public WatchedFile(string path, Func<string?, T> parse, TimeProvider time, Action<T>? loaded = null)
    {
        _path = path;
        _parse = parse;
        _loaded = loaded;
        _time = time;
        _interval = (long)(CheckInterval.TotalSeconds * time.TimestampFrequency);
        (_value, _stamp) = Read();
        _nextCheck = time.GetTimestamp() + _interval;
        loaded?.Invoke(_value);
    }

    /// <summary>The parsed file, re-read first when a second has passed since the last look and the file changed.</summary>
    public T Current
    {
        get
        {
            long now = _time.GetTimestamp();
            if (now >= Interlocked.Read(ref _nextCheck) && _gate.TryEnter())
            {
                try
                {
                    Refresh(now);
                }
                finally
                {
                    _gate.Exit();
                }
            }

            return _value;
        }
    }

    private void Refresh(long now)
    {
        if (now < Interlocked.Read(ref _nextCheck))
        {
            return; // another lookup looked while this one waited for the gate
        }

        Interlocked.Exchange(ref _nextCheck, now + _interval);
        if (Stamp() == _stamp)
        {
            return;
        }

        (_value, _stamp) = Read();
        _loaded?.Invoke(_value);
    }

    private (T, (bool, DateTime, long)) Read()
    {
        var stamp = Stamp();
        string? text;
        try
        {
            text = stamp.Exists ? File.ReadAllText(_path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text = null;
        }

        return (_parse(text), stamp);
    }

    private (bool Exists, DateTime Modified, long Length) Stamp()
    {
        var info = new FileInfo(_path);
        return info.Exists ? (true, info.LastWriteTimeUtc, info.Length) : (false, default, 0);
    }
}
