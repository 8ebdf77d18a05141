using System.ComponentModel;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// A test case that skips, with its skip reason in its display name. The runner's default output
/// shows a skipped test only by name (<c>… [SKIP]</c>, <c>Skipped …</c>) and keeps the reason for
/// higher verbosities, so without this a reader of <c>dotnet test</c> saw that a test did not run,
/// never why.
/// </summary>
public sealed class SkippedTestCase : XunitTestCase
{
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer only.", error: true)]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, options, testMethod)
    {
    }

    protected override void Initialize()
    {
        base.Initialize();
        DisplayName = $"{DisplayName} (skipped: {SkipReason})";
    }

    /// <summary>The test cases to run for <paramref name="attribute"/>: this one when it skips, else none (the caller's own).</summary>
    internal static IXunitTestCase? ForSkip(IMessageSink sink, ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute)
        => string.IsNullOrEmpty(attribute.GetNamedArgument<string>("Skip"))
            ? null
            : new SkippedTestCase(sink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method);
}
