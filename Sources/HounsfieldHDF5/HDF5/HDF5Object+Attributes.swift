import Foundation
import CHDF5Shim

/// Attributes: numbers as float64 or int64 arrays, strings as variable-length UTF-8 (what h5py reads as `str`).
extension HDF5Object {
    func write(_ name: String, doubles values: [Double], shape: [Int]? = nil) throws(ShardError) {
        let dims = (shape ?? [values.count]).map(UInt64.init)
        let status = values.withUnsafeBytes { hf5_attribute_write(id, name, Int32(HF5_FLOAT64), Int32(dims.count), dims, $0.baseAddress) }
        guard status == 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
    }

    func write(_ name: String, double value: Double) throws(ShardError) {
        let status = withUnsafeBytes(of: value) { hf5_attribute_write(id, name, Int32(HF5_FLOAT64), 0, nil, $0.baseAddress) }
        guard status == 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
    }

    func write(_ name: String, integers values: [Int]) throws(ShardError) {
        let numbers = values.map(Int64.init)
        let dims = [UInt64(values.count)]
        let status = numbers.withUnsafeBytes { hf5_attribute_write(id, name, Int32(HF5_INT64), 1, dims, $0.baseAddress) }
        guard status == 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
    }

    func write(_ name: String, integer value: Int) throws(ShardError) {
        let status = withUnsafeBytes(of: Int64(value)) { hf5_attribute_write(id, name, Int32(HF5_INT64), 0, nil, $0.baseAddress) }
        guard status == 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
    }

    func write(_ name: String, string value: String) throws(ShardError) {
        try write(name, strings: [value], scalar: true)
    }

    func write(_ name: String, strings values: [String], scalar: Bool = false) throws(ShardError) {
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        let status = pointers.withUnsafeBufferPointer {
            hf5_attribute_write_strings(id, name, scalar ? 0 : 1, $0.baseAddress, values.count)
        }
        guard status == 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
    }

    func hasAttribute(_ name: String) -> Bool { hf5_attribute_exists(id, name) == 1 }

    private func attributeCount(_ name: String) throws(ShardError) -> (kind: Int32, count: Int) {
        var kind: Int32 = 0
        var count: UInt64 = 0
        guard hf5_attribute_info(id, name, &kind, &count) == 0 else {
            throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError)
        }
        return (kind, Int(count))
    }

    func doubles(_ name: String) throws(ShardError) -> [Double] {
        let (_, count) = try attributeCount(name)
        var values = [Double](repeating: 0, count: count)
        guard hf5_attribute_read_doubles(id, name, &values, count) == 0 else {
            throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError)
        }
        return values
    }

    func integers(_ name: String) throws(ShardError) -> [Int] {
        let (_, count) = try attributeCount(name)
        var values = [Int64](repeating: 0, count: count)
        guard hf5_attribute_read_int64s(id, name, &values, count) == 0 else {
            throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError)
        }
        return values.map(Int.init)
    }

    func strings(_ name: String) throws(ShardError) -> [String] {
        let (kind, count) = try attributeCount(name)
        guard kind == Int32(HF5_STRING) else { throw .malformed(path: "\(self.name)@\(name)", reason: "not a string attribute") }
        var result: [String] = []
        var buffer = [CChar](repeating: 0, count: 1024)
        for index in 0..<count {
            var length = hf5_attribute_read_string(id, name, index, &buffer, buffer.count)
            if length >= buffer.count {
                buffer = [CChar](repeating: 0, count: Int(length) + 1)
                length = hf5_attribute_read_string(id, name, index, &buffer, buffer.count)
            }
            guard length >= 0 else { throw .hdf5(path: "\(self.name)@\(name)", message: HDF5Object.lastError) }
            result.append(HDF5Object.string(from: buffer))
        }
        return result
    }

    func string(_ name: String) throws(ShardError) -> String {
        guard let first = try strings(name).first else { throw .malformed(path: "\(self.name)@\(name)", reason: "empty string attribute") }
        return first
    }
}
