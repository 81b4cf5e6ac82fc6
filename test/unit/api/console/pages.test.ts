import { describe, expect, it } from 'vitest';
import { heldView } from '../../../../src/history/held-view.js';
import { spentOfBudget } from '../../../../src/api/console/html.js';
import { forgottenNote, numberPage } from '../../../../src/api/console/number-page.js';

describe('spentOfBudget', () => {
  it('words requests and money as the pause reason does, with thousands separators for requests', () => {
    expect(spentOfBudget({ requests: 1234, amount: null, budget: '2000 requests' })).toBe(
      '1,234 of 2,000 requests',
    );
    expect(spentOfBudget({ requests: 210, amount: 4.2, budget: '25.00 EUR' })).toBe('4.20 of 25.00 EUR');
    expect(spentOfBudget({ requests: 0, amount: null, budget: '0.50 USD' })).toBe('0.00 of 0.50 USD');
    expect(spentOfBudget({ requests: 3, amount: 0.06, budget: null })).toBe('—');
  });
});

describe('forgottenNote', () => {
  it('says how many records were erased, or that nothing was held', () => {
    expect(forgottenNote(1)).toBe('Forgotten: 1 record erased from the history.');
    expect(forgottenNote(0)).toBe('Forgotten: nothing was held (the number was not in the history).');
  });
});

describe('numberPage', () => {
  it('offers to forget only a number the history holds, and escapes what it shows', () => {
    const nothing = numberPage('tok', '+447400123456', {
      held: heldView('+447400123456', null),
      changes: [],
    });
    expect(nothing).toContain('The history holds nothing for this number.');
    expect(nothing).not.toContain('action="/number/forget"');

    const held = numberPage('tok"', '+447400123456', {
      held: { ...heldView('+447400123456', null), held: true, purpose: '<b>' },
      changes: [],
    });
    expect(held).toContain('action="/number/forget"');
    expect(held).toContain('name="_csrf" value="tok&quot;"');
    expect(held).toContain('<input type="hidden" name="phone" value="+447400123456">');
    expect(held).toMatch(/<input id="confirm" name="confirm" type="checkbox" value="yes" required>/);
    expect(held).toContain('&lt;b&gt;');
    expect(held).not.toContain('<b>');
  });
});
