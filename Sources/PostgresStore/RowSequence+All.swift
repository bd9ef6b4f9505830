/// Every element of a (decoded) row sequence, for queries whose answer is small by construction.
extension AsyncSequence {
    func all() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}
