using System.Net.Sockets;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// The life of an association once opened, whichever command opened it: registered (so
/// shutdown, metrics and limits see it at once), its client side started, the client answered,
/// then run until it ends, and closed in one order: its sockets, its last notice flushed for a
/// while, then the control connection.
/// </summary>
internal sealed class AssociationLifetime(AssociationRegistry registry)
{
    private static readonly TimeSpan NoticeFlushTime = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs <paramref name="association"/> on <paramref name="control"/> until it ends.
    /// <paramref name="begin"/> answers the client and returns the task that reads the control
    /// connection to its end; it runs once the association takes datagrams, so nothing the client
    /// sends after the answer can come too early.
    /// </summary>
    public async Task RunAsync(Socket control, UdpAssociation association, IControlWriter writer, Func<Task> begin, CancellationToken stopping)
    {
        registry.Add(association);
        var stop = stopping.Register(static a => ((UdpAssociation)a!).End(AssociationEnd.Shutdown), association);
        var run = association.RunAsync();
        var watch = Task.CompletedTask;
        try
        {
            watch = begin();
        }
        catch
        {
            association.End(AssociationEnd.ClientReset); // the run then only closes what the association opened
            throw;
        }
        finally
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            finally
            {
                await CloseAsync(control, association, writer, stop, watch).ConfigureAwait(false);
            }
        }
    }

    /// <summary>After the association's sockets are closed: its last notice, flushed for a while, then the control connection.</summary>
    private async Task CloseAsync(Socket control, UdpAssociation association, IControlWriter writer, CancellationTokenRegistration stop, Task watch)
    {
        try
        {
            stop.Dispose();
            registry.Remove(association);
            association.AnnounceClosing();
            await writer.CompleteAsync().WaitAsync(NoticeFlushTime).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            await GracefulClose.ShutdownAsync(control, watch).ConfigureAwait(false);
            control.Dispose();
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
