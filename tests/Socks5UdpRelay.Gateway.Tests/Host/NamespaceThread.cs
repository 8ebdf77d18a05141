using System.ComponentModel;
using System.Runtime.InteropServices;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>
/// Runs code on a fresh thread that has entered a network namespace (setns), so that what it
/// creates — a TUN device, the gateway's routing commands (a child process inherits the thread's
/// namespace), threads it starts — lives there, while the test's own threads stay where they are.
/// </summary>
internal static class NamespaceThread
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(string ns, Func<T> action)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle(Path.Combine("/var/run/netns", ns), FileMode.Open, FileAccess.Read))
                {
                    if (NativeMethods.setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    {
                        throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns({ns}) failed");
                    }
                }

                result = action();
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = $"in {ns}",
        };
        thread.Start();
        if (!thread.Join(TestTimeout.Default * 3))
        {
            throw new TimeoutException($"Code in namespace {ns} did not finish.");
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return result!;
    }

    public static void Run(string ns, Action action) => Run(ns, () =>
    {
        action();
        return 0;
    });

    private static class NativeMethods
    {
        [DllImport("libc", ExactSpelling = true, SetLastError = true)]
        internal static extern int setns(int fd, int nstype);
    }
}
