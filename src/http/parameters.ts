// Reading operation input (FHIR Parameters): typed access with clear 400s for what is missing.
import type { Coding, Identifier, Parameters, ParametersParameter, Reference } from '@medplum/fhirtypes';
import { checkFhir } from '../mappings/validate.js';
import { accepted } from '../fhir/verdict.js';
import { badRequest } from '../fhir/outcomes.js';

export class OperationInput {
  readonly parameters: Parameters;

  /** `at`: the request's moment, which the resources the Parameters carry are checked at (the system time if absent). */
  constructor(body: unknown, at?: Date) {
    this.parameters = accepted(checkFhir<Parameters>(body, ['Parameters'], { at }));
  }

  all(name: string): ParametersParameter[] {
    return (this.parameters.parameter ?? []).filter((p) => p.name === name);
  }

  one(name: string): ParametersParameter | undefined {
    const found = this.all(name);
    if (found.length > 1)
      throw badRequest(
        `Parameter "${name}" mag maar één keer voorkomen / Parameter "${name}" may appear only once`,
        `Parameters.parameter[${name}]`,
      );
    return found[0];
  }

  private need<T>(name: string, kind: string, value: T | undefined, required: boolean): T | undefined {
    if (value === undefined && required) {
      throw badRequest(
        `Parameter "${name}" (${kind}) is verplicht / Parameter "${name}" (${kind}) is required`,
        `Parameters.parameter[${name}]`,
      );
    }
    return value;
  }

  reference(name: string, required: true): Reference;
  reference(name: string, required?: false): Reference | undefined;
  reference(name: string, required = false) {
    return this.need(name, 'valueReference', this.one(name)?.valueReference, required);
  }

  identifier(name: string, required: true): Identifier;
  identifier(name: string, required?: false): Identifier | undefined;
  identifier(name: string, required = false) {
    return this.need(name, 'valueIdentifier', this.one(name)?.valueIdentifier, required);
  }

  coding(name: string, required: true): Coding;
  coding(name: string, required?: false): Coding | undefined;
  coding(name: string, required = false) {
    return this.need(name, 'valueCoding', this.one(name)?.valueCoding, required);
  }

  string(name: string): string | undefined {
    return this.one(name)?.valueString;
  }

  codings(name: string): Coding[] {
    return this.all(name).flatMap((p) => (p.valueCoding ? [p.valueCoding] : []));
  }

  /** Structured criteria: repeating `criterion` parts with `code` and a boolean or string value. */
  criteria(): Record<string, string | boolean> {
    const out: Record<string, string | boolean> = {};
    for (const c of this.all('criterion')) {
      const code = c.part?.find((p) => p.name === 'code');
      const value = c.part?.find((p) => p.name === 'value');
      const key = code?.valueCode ?? code?.valueCoding?.code ?? code?.valueString;
      if (!key)
        throw badRequest(
          'Elk criterium heeft een part "code" nodig / Each criterion needs a code part',
          'Parameters.parameter[criterion]',
        );
      const v =
        value?.valueBoolean ??
        value?.valueString ??
        c.part?.find((p) => p.valueBoolean !== undefined)?.valueBoolean;
      if (v === undefined)
        throw badRequest(
          `Criterium "${key}" heeft een part met een waarde nodig (valueBoolean of valueString) / Criterion "${key}" needs a value part (valueBoolean or valueString)`,
        );
      out[key] = v;
    }
    return out;
  }
}
