using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// Finds test methods whose fact or theory attribute names a discoverer xunit cannot load. xunit 2
/// drops such a test without a word (it tells only its diagnostic sink), so the run passes with
/// the test missing: this is how every namespace test of two projects once vanished, when their
/// attributes named a discoverer in an assembly those projects did not load. The lookup is
/// xunit's own (<see cref="SerializationHelper.GetType(string, string)"/>), as its discovery does it.
/// </summary>
public static class DiscovererCheck
{
    /// <summary>One line per test method of <paramref name="tests"/>' public classes (the ones xunit runs) whose discoverer does not load.</summary>
    public static IReadOnlyList<string> Unresolved(Assembly tests) =>
        Unresolved(tests.GetExportedTypes());

    /// <summary>One line per test method of <paramref name="types"/> whose discoverer does not load.</summary>
    public static IReadOnlyList<string> Unresolved(IEnumerable<Type> types)
    {
        var problems = new List<string>();
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                foreach (var fact in new ReflectionMethodInfo(method).GetCustomAttributes(typeof(FactAttribute)))
                {
                    if (Problem(fact) is { } problem)
                    {
                        problems.Add($"{type.FullName}.{method.Name}: {problem}");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>Why xunit would not discover a test carrying <paramref name="fact"/>, or null when it would.</summary>
    private static string? Problem(IAttributeInfo fact)
    {
        var name = ((IReflectionAttributeInfo)fact).Attribute.GetType().Name;
        if (fact.GetCustomAttributes(typeof(XunitTestCaseDiscovererAttribute)).FirstOrDefault() is not { } discoverer)
        {
            return $"[{name}] names no discoverer";
        }

        var arguments = discoverer.GetConstructorArguments().Cast<string>().ToList();
        var type = SerializationHelper.GetType(arguments[1], arguments[0]);
        return type is null ? $"[{name}] names discoverer {arguments[0]} in {arguments[1]}, which does not load here"
            : !typeof(IXunitTestCaseDiscoverer).IsAssignableFrom(type) ? $"[{name}] names {type.FullName}, which is no IXunitTestCaseDiscoverer"
            : null;
    }
}
