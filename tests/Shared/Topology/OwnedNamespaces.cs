using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>
/// The network namespaces and processes one topology made, for <see cref="NetnsTopology"/> and
/// the server tests' <c>ScaleOutTopology</c>: a namespace is listed before it is created, so a build that
/// fails half-way still removes it; dispose kills the processes, then deletes the namespaces in
/// reverse order, once, also when the test process exits first.
/// </summary>
public sealed class OwnedNamespaces : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<NetnsProcess> _processes = [];
    private readonly Lock _gate = new();
    private readonly EventHandler _onProcessExit;
    private int _disposed;

    public OwnedNamespaces(string prefix)
    {
        Prefix = prefix;
        _onProcessExit = (_, _) => Dispose();
        AppDomain.CurrentDomain.ProcessExit += _onProcessExit;
    }

    /// <summary>
    /// Makes a topology under a fresh prefix with <paramref name="create"/> and builds it with
    /// <paramref name="build"/>, after checking that namespaces can be made (throws with the reason
    /// when not) and deleting leftovers of runs whose process is gone. A topology that fails half-way
    /// is disposed, so whatever it made is deleted before the exception leaves.
    /// </summary>
    public static T Build<T>(Func<string, T> create, Action<T> build)
        where T : IDisposable
    {
        Requirements.EnsureNetworkNamespaces();
        NetnsTopology.DeleteLeftovers();
        var topology = create(NamespaceNames.NextPrefix());
        try
        {
            build(topology);
            return topology;
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    /// <summary>The unique name prefix, <c>s5t{pid}x{n}-</c>.</summary>
    public string Prefix { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Every namespace made, in the order made.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                return [.. _namespaces];
            }
        }
    }

    /// <summary>Creates <paramref name="ns"/> (<c>ip netns add</c>), listed first.</summary>
    public void Add(string ns)
    {
        lock (_gate)
        {
            _namespaces.Add(ns);
        }

        CommandRunner.RunChecked(["ip", "netns", "add", ns]);
    }

    /// <summary>Throws unless <paramref name="ns"/> was made here and is not deleted yet.</summary>
    public void EnsureOwned(string ns)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        lock (_gate)
        {
            if (!_namespaces.Contains(ns))
            {
                throw new ArgumentException($"{ns} is not a namespace of this topology ({Prefix}*).", nameof(ns));
            }
        }
    }

    /// <summary>Starts <paramref name="command"/> inside <paramref name="ns"/> (<c>ip netns exec</c>, which execs); dispose kills it.</summary>
    public NetnsProcess Start(string ns, IReadOnlyList<string> command, IReadOnlyDictionary<string, string?>? environment)
    {
        EnsureOwned(ns);
        var process = NetnsProcess.Start(["ip", "netns", "exec", ns, .. command], environment);
        lock (_gate)
        {
            if (IsDisposed)
            {
                process.Dispose();
                throw new ObjectDisposedException(nameof(OwnedNamespaces));
            }

            _processes.Add(process);
        }

        return process;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= _onProcessExit;
        NetnsProcess[] processes;
        string[] namespaces;
        lock (_gate)
        {
            processes = [.. _processes];
            namespaces = [.. _namespaces];
        }

        foreach (var process in processes)
        {
            process.Dispose();
        }

        foreach (var ns in namespaces.Reverse())
        {
            NetnsTopology.DeleteNamespace(ns);
        }
    }
}
