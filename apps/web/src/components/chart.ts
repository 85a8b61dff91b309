export interface Series {
  name: string;
  points: [step: number, value: number][];
}
