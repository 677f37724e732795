/**
 * A 2-D pixel plane over a typed array, with sub-image views that share memory.
 *
 * Pixel (x, y) of a plane is `data[offset + y * stride + x]`. `x0, y0` give the
 * plane's origin in its parent's pixel grid (0 for a whole image), so that a
 * view knows where it sits.
 * @example
 *   const img = Plane.zeros(Float32Array, 100, 80);
 *   const view = img.view({ x: 10, y: 20, width: 30, height: 30 });
 *   view.set(0, 0, 5); // img.get(10, 20) === 5
 */
export type PixelArray = Float32Array | Float64Array | Int32Array | Int16Array | Uint8Array;

export interface Box {
  /** Left column, 0-based, in the plane's own pixel grid. */
  x: number;
  /** Bottom row, 0-based. */
  y: number;
  width: number;
  height: number;
}

type ArrayCtor<T extends PixelArray> = { new (length: number): T };

export class Plane<T extends PixelArray> {
  constructor(
    readonly data: T,
    readonly width: number,
    readonly height: number,
    readonly stride: number = width,
    readonly offset: number = 0,
    readonly x0: number = 0,
    readonly y0: number = 0,
  ) {
    if (width < 0 || height < 0) throw new RangeError(`bad plane size ${width}x${height}`);
    if (height > 0 && offset + (height - 1) * stride + width > data.length) {
      throw new RangeError(`plane ${width}x${height} (stride ${stride}) exceeds its buffer`);
    }
  }

  static zeros<T extends PixelArray>(ctor: ArrayCtor<T>, width: number, height: number): Plane<T> {
    return new Plane(new ctor(width * height), width, height);
  }

  /** True when rows are stored back to back, so `data` covers exactly this plane. */
  get contiguous(): boolean {
    return (
      this.stride === this.width &&
      this.offset === 0 &&
      this.data.length === this.width * this.height
    );
  }

  index(x: number, y: number): number {
    return this.offset + y * this.stride + x;
  }

  get(x: number, y: number): number {
    return this.data[this.offset + y * this.stride + x];
  }

  set(x: number, y: number, value: number): void {
    this.data[this.offset + y * this.stride + x] = value;
  }

  /** Row y as a subarray view (no copy). */
  row(y: number): T {
    const start = this.offset + y * this.stride;
    return this.data.subarray(start, start + this.width) as T;
  }

  /** A sub-image view sharing this plane's memory. */
  view(box: Box): Plane<T> {
    if (
      box.x < 0 ||
      box.y < 0 ||
      box.x + box.width > this.width ||
      box.y + box.height > this.height
    ) {
      throw new RangeError(
        `view ${JSON.stringify(box)} lies outside the ${this.width}x${this.height} plane`,
      );
    }
    return new Plane(
      this.data,
      box.width,
      box.height,
      this.stride,
      this.index(box.x, box.y),
      this.x0 + box.x,
      this.y0 + box.y,
    );
  }

  /** A contiguous copy (origin kept). */
  clone(): Plane<T> {
    const ctor = this.data.constructor as ArrayCtor<T>;
    const out = new ctor(this.width * this.height);
    for (let y = 0; y < this.height; y++) out.set(this.row(y), y * this.width);
    return new Plane(out, this.width, this.height, this.width, 0, this.x0, this.y0);
  }

  fill(value: number): this {
    for (let y = 0; y < this.height; y++) this.row(y).fill(value);
    return this;
  }
}

export type ImageF = Plane<Float32Array>;
export type MaskI = Plane<Int32Array>;
